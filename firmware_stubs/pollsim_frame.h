/* pollsim serial protocol, version 1: the byte layer in C99 (see docs/protocol.md).
 *
 * A frame on the wire is 0x00, COBS(header | payload | CRC-32C), 0x00, where the header is
 * ten big-endian bytes: version (u8, 1), device id (u16), message type (u8), sequence (u16),
 * acknowledgement (u16), payload length (u16); the CRC-32C (Castagnoli) covers header and
 * payload and is sent big-endian. This file is the reference a device team can port.
 */
#ifndef POLLSIM_FRAME_H
#define POLLSIM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define PS_VERSION 1
#define PS_HEADER_SIZE 10
#define PS_CRC_SIZE 4
#define PS_MAX_PAYLOAD 65535u
#define PS_MAX_RAW (PS_HEADER_SIZE + PS_MAX_PAYLOAD + PS_CRC_SIZE)
#define PS_MAX_ENCODED (PS_MAX_RAW + PS_MAX_RAW / 254 + 1)
#define PS_MAX_WIRE (PS_MAX_ENCODED + 2)
#define PS_BROADCAST_ID 0xFFFFu

/* Why a run of bytes between two zero delimiters is not a frame (order of the checks). */
enum ps_fault {
    PS_OK = 0,
    PS_OVERSIZE,
    PS_BAD_COBS,
    PS_TOO_SHORT,
    PS_BAD_CRC,
    PS_BAD_VERSION,
    PS_LENGTH_MISMATCH
};

typedef struct {
    uint16_t device_id;
    uint8_t msg_type;
    uint16_t seq;
    uint16_t ack;
    uint16_t length;          /* payload length */
    const uint8_t *payload;   /* length bytes */
} ps_frame;

/* Streaming decoder: bytes in, one callback per frame or per rejected run. */
typedef void (*ps_on_frame)(void *ctx, const ps_frame *frame, enum ps_fault fault);

typedef struct {
    uint8_t run[PS_MAX_ENCODED];  /* bytes since the last zero */
    size_t len;
    size_t overflow;              /* bytes dropped from a run longer than any frame */
    size_t last_run;              /* bytes between the delimiters of the run reported last */
    uint8_t raw[PS_MAX_ENCODED];  /* decoded run (never longer than the run itself) */
} ps_decoder;

const char *ps_fault_name(enum ps_fault fault);

/* CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF. */
uint32_t ps_crc32c(const uint8_t *data, size_t len);

/* COBS encode len bytes into out (room for len + len / 254 + 1); return the encoded length. */
size_t ps_cobs_encode(const uint8_t *in, size_t len, uint8_t *out);

/* COBS decode; return the decoded length (less than len), or -1 if in is not a valid
 * encoding. out needs room for len bytes. */
long ps_cobs_decode(const uint8_t *in, size_t len, uint8_t *out);

/* Encode a frame into wire (room for PS_MAX_WIRE); raw is scratch of PS_MAX_RAW bytes.
 * Return the number of wire bytes, delimiters included. */
size_t ps_frame_encode(const ps_frame *frame, uint8_t *raw, uint8_t *wire);

/* Decode the bytes between two delimiters; raw receives the decoded bytes (room for len, at
 * most PS_MAX_ENCODED); out->payload points into raw. */
enum ps_fault ps_frame_decode(const uint8_t *encoded, size_t len, uint8_t *raw, ps_frame *out);

void ps_decoder_init(ps_decoder *decoder);
void ps_decoder_feed(ps_decoder *decoder, const uint8_t *data, size_t len, ps_on_frame on_frame,
                     void *ctx);

#endif
