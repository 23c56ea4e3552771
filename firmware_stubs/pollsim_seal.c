/* pollsim serial protocol: SHA-256 (FIPS 180-4), HMAC-SHA-256 (RFC 2104) and the envelope of
 * docs/protocol.md section 8 (see pollsim_seal.h). */
#include "pollsim_seal.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t s[8], const uint8_t b[64])
{
    uint32_t w[64], a, bb, c, d, e, f, g, h, t1, t2;
    int i;

    for (i = 0; i < 16; i++)
        w[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 | (uint32_t)b[4 * i + 2] << 8 | b[4 * i + 3];
    for (i = 16; i < 64; i++)
        w[i] = (ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10)) + w[i - 7] +
               (ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3)) + w[i - 16];
    a = s[0]; bb = s[1]; c = s[2]; d = s[3]; e = s[4]; f = s[5]; g = s[6]; h = s[7];
    for (i = 0; i < 64; i++) {
        t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
        h = g; g = f; f = e; e = d + t1; d = c; c = bb; bb = a; a = t1 + t2;
    }
    s[0] += a; s[1] += bb; s[2] += c; s[3] += d; s[4] += e; s[5] += f; s[6] += g; s[7] += h;
}

void ps_sha256_init(ps_sha256_ctx *ctx)
{
    static const uint32_t init[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
    memcpy(ctx->state, init, sizeof init);
    ctx->length = 0;
    ctx->used = 0;
}

void ps_sha256_update(ps_sha256_ctx *ctx, const uint8_t *data, size_t len)
{
    ctx->length += len;
    while (len) {
        size_t take = 64 - ctx->used < len ? 64 - ctx->used : len;
        memcpy(ctx->block + ctx->used, data, take);
        ctx->used += take;
        data += take;
        len -= take;
        if (ctx->used == 64) {
            compress(ctx->state, ctx->block);
            ctx->used = 0;
        }
    }
}

void ps_sha256_final(ps_sha256_ctx *ctx, uint8_t digest[32])
{
    uint64_t bits = ctx->length * 8;
    uint8_t pad = 0x80, zero = 0, length[8];
    int i;

    ps_sha256_update(ctx, &pad, 1);
    while (ctx->used != 56)
        ps_sha256_update(ctx, &zero, 1);
    for (i = 0; i < 8; i++)
        length[i] = (uint8_t)(bits >> (56 - 8 * i));
    ps_sha256_update(ctx, length, 8);
    for (i = 0; i < 32; i++)
        digest[i] = (uint8_t)(ctx->state[i / 4] >> (24 - 8 * (i % 4)));
}

void ps_sha256(const uint8_t *data, size_t len, uint8_t digest[32])
{
    ps_sha256_ctx ctx;
    ps_sha256_init(&ctx);
    ps_sha256_update(&ctx, data, len);
    ps_sha256_final(&ctx, digest);
}

void ps_hmac_sha256(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len, uint8_t mac[32])
{
    uint8_t block[64] = { 0 }, inner[32];
    ps_sha256_ctx ctx;
    int i;

    if (key_len > 64)
        ps_sha256(key, key_len, block);
    else
        memcpy(block, key, key_len);
    for (i = 0; i < 64; i++)
        block[i] ^= 0x36;
    ps_sha256_init(&ctx);
    ps_sha256_update(&ctx, block, 64);
    ps_sha256_update(&ctx, data, len);
    ps_sha256_final(&ctx, inner);
    for (i = 0; i < 64; i++)
        block[i] ^= 0x36 ^ 0x5c;
    ps_sha256_init(&ctx);
    ps_sha256_update(&ctx, block, 64);
    ps_sha256_update(&ctx, inner, 32);
    ps_sha256_final(&ctx, mac);
}

void ps_seal(const uint8_t *key, size_t key_len, uint64_t counter, const uint8_t scope[32],
             const uint8_t *payload, size_t len, uint8_t *out)
{
    int i;

    memcpy(out, "PSR2", 4);
    for (i = 0; i < 8; i++)
        out[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
    memcpy(out + 12, scope, 32);
    for (i = 0; i < 4; i++)
        out[44 + i] = (uint8_t)((uint64_t)len >> (24 - 8 * i));
    ps_sha256(payload, len, out + 48);
    ps_hmac_sha256(key, key_len, out, 80, out + 80);
}

void ps_hex(const uint8_t *data, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[data[i] >> 4];
        out[2 * i + 1] = digits[data[i] & 15];
    }
    out[2 * len] = '\0';
}
