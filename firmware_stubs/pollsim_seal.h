/* pollsim serial protocol: SHA-256, HMAC-SHA-256 and the sealed-result envelope in C99
 * (docs/protocol.md section 8). No external libraries: a device team can port it as it is.
 *
 * Envelope (112 bytes, then the payload): "PSR2" | counter u64 | SHA-256 of the scope text
 * (serial|definition_hash|memory_card) | payload length u32 | SHA-256 of the payload |
 * HMAC-SHA-256(key, bytes 0..79), all big-endian.
 */
#ifndef POLLSIM_SEAL_H
#define POLLSIM_SEAL_H

#include <stddef.h>
#include <stdint.h>

#define PS_ENVELOPE_SIZE 112

typedef struct {
    uint32_t state[8];
    uint64_t length;   /* bytes hashed so far */
    uint8_t block[64];
    size_t used;       /* bytes in block */
} ps_sha256_ctx;

void ps_sha256_init(ps_sha256_ctx *ctx);
void ps_sha256_update(ps_sha256_ctx *ctx, const uint8_t *data, size_t len);
void ps_sha256_final(ps_sha256_ctx *ctx, uint8_t digest[32]);
void ps_sha256(const uint8_t *data, size_t len, uint8_t digest[32]);
void ps_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t mac[32]);

/* Write the envelope for payload (len bytes) into out (room for PS_ENVELOPE_SIZE); scope is the
 * 32-byte SHA-256 of the scope text. The payload itself follows the envelope on the wire. */
void ps_seal(const uint8_t *key, size_t key_len, uint64_t counter, const uint8_t scope[32],
             const uint8_t *payload, size_t len, uint8_t *out);

/* Lower-case hex of len bytes into out (room for 2 * len + 1). */
void ps_hex(const uint8_t *data, size_t len, char *out);

#endif
