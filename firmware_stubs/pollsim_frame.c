/* pollsim serial protocol, version 1: COBS, CRC-32C and frames (see pollsim_frame.h). */
#include "pollsim_frame.h"

#include <string.h>

const char *ps_fault_name(enum ps_fault fault)
{
    switch (fault) {
    case PS_OK: return "ok";
    case PS_OVERSIZE: return "oversize";
    case PS_BAD_COBS: return "bad_cobs";
    case PS_TOO_SHORT: return "too_short";
    case PS_BAD_CRC: return "bad_crc";
    case PS_BAD_VERSION: return "bad_version";
    case PS_LENGTH_MISMATCH: return "length_mismatch";
    }
    return "unknown";
}

uint32_t ps_crc32c(const uint8_t *data, size_t len)
{
    static uint32_t table[256];
    static int ready = 0;
    uint32_t crc = 0xFFFFFFFFu;
    size_t i;

    if (!ready) {
        uint32_t n, bit, value;
        for (n = 0; n < 256; n++) {
            value = n;
            for (bit = 0; bit < 8; bit++)
                value = (value & 1u) ? (value >> 1) ^ 0x82F63B78u : value >> 1;
            table[n] = value;
        }
        ready = 1;
    }
    for (i = 0; i < len; i++)
        crc = table[(crc ^ data[i]) & 0xFFu] ^ (crc >> 8);
    return crc ^ 0xFFFFFFFFu;
}

size_t ps_cobs_encode(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t code_at = 0, o = 1, i;
    uint8_t code = 1;

    for (i = 0; i < len; i++) {
        if (in[i] == 0) {
            out[code_at] = code;
            code_at = o++;
            code = 1;
            continue;
        }
        out[o++] = in[i];
        if (++code == 0xFF) {
            out[code_at] = code;
            code = 1;
            if (i + 1 == len) /* canonical: no 01 after a final full run */
                return o;
            code_at = o++;
        }
    }
    out[code_at] = code;
    return o;
}

long ps_cobs_decode(const uint8_t *in, size_t len, uint8_t *out)
{
    size_t i = 0, o = 0, k;

    if (len == 0)
        return -1;
    while (i < len) {
        uint8_t code = in[i];
        if (code == 0 || i + code > len)
            return -1;
        for (k = 1; k < code; k++) {
            if (in[i + k] == 0)
                return -1;
            out[o++] = in[i + k];
        }
        i += code;
        if (code < 0xFF && i < len)
            out[o++] = 0;
    }
    return (long)o;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static uint16_t get16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }

size_t ps_frame_encode(const ps_frame *frame, uint8_t *raw, uint8_t *wire)
{
    size_t body = PS_HEADER_SIZE + frame->length;
    uint32_t crc;

    raw[0] = PS_VERSION;
    put16(raw + 1, frame->device_id);
    raw[3] = frame->msg_type;
    put16(raw + 4, frame->seq);
    put16(raw + 6, frame->ack);
    put16(raw + 8, frame->length);
    if (frame->length)
        memcpy(raw + PS_HEADER_SIZE, frame->payload, frame->length);
    crc = ps_crc32c(raw, body);
    raw[body] = (uint8_t)(crc >> 24);
    raw[body + 1] = (uint8_t)(crc >> 16);
    raw[body + 2] = (uint8_t)(crc >> 8);
    raw[body + 3] = (uint8_t)crc;
    wire[0] = 0;
    body = 1 + ps_cobs_encode(raw, body + PS_CRC_SIZE, wire + 1);
    wire[body] = 0;
    return body + 1;
}

enum ps_fault ps_frame_decode(const uint8_t *encoded, size_t len, uint8_t *raw, ps_frame *out)
{
    long n;
    size_t body;
    uint32_t crc;

    if (len > PS_MAX_ENCODED)
        return PS_OVERSIZE;
    n = ps_cobs_decode(encoded, len, raw);
    if (n < 0)
        return PS_BAD_COBS;
    if (n < PS_HEADER_SIZE + PS_CRC_SIZE)
        return PS_TOO_SHORT;
    body = (size_t)n - PS_CRC_SIZE;
    crc = ((uint32_t)raw[body] << 24) | ((uint32_t)raw[body + 1] << 16) |
          ((uint32_t)raw[body + 2] << 8) | raw[body + 3];
    if (ps_crc32c(raw, body) != crc)
        return PS_BAD_CRC;
    if (raw[0] != PS_VERSION)
        return PS_BAD_VERSION;
    if (get16(raw + 8) != body - PS_HEADER_SIZE)
        return PS_LENGTH_MISMATCH;
    out->device_id = get16(raw + 1);
    out->msg_type = raw[3];
    out->seq = get16(raw + 4);
    out->ack = get16(raw + 6);
    out->length = get16(raw + 8);
    out->payload = raw + PS_HEADER_SIZE;
    return PS_OK;
}

void ps_decoder_init(ps_decoder *decoder)
{
    decoder->len = 0;
    decoder->overflow = 0;
}

static void finish_run(ps_decoder *d, ps_on_frame on_frame, void *ctx)
{
    ps_frame frame;
    enum ps_fault fault;

    if (d->overflow) {
        fault = PS_OVERSIZE;
    } else if (d->len == 0) {
        return; /* two zeros in a row: nothing */
    } else {
        fault = ps_frame_decode(d->run, d->len, d->raw, &frame);
    }
    d->last_run = d->overflow ? d->overflow : d->len;
    d->len = 0;
    d->overflow = 0;
    on_frame(ctx, fault == PS_OK ? &frame : NULL, fault);
}

void ps_decoder_feed(ps_decoder *d, const uint8_t *data, size_t len, ps_on_frame on_frame,
                     void *ctx)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (data[i] == 0) {
            finish_run(d, on_frame, ctx);
        } else if (d->overflow || d->len == PS_MAX_ENCODED) {
            d->overflow += d->overflow ? 1 : d->len + 1;
            d->len = 0;
        } else {
            d->run[d->len++] = data[i];
        }
    }
}
