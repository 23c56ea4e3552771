/* test_vectors: check the C codec against the protocol's shared test vectors.
 *
 * Usage: test_vectors tests/data/protocol_vectors.json
 *
 * The JSON file (written by tests/protocol/make_vectors.py) is the one source of truth that
 * the Python tests also read. Its shape is fixed: an object of arrays of flat objects whose
 * values are strings or integers, which the small reader below handles and nothing more.
 */
#include "pollsim_frame.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 8

typedef struct {
    char key[32];
    char *text; /* string value, or NULL for a number */
    long number;
} field;

typedef struct {
    field fields[MAX_FIELDS];
    int count;
} record;

static const char *cursor;
static int failures, checks;

static void fail_parse(const char *what)
{
    fprintf(stderr, "vectors: malformed JSON: %s near \"%.20s\"\n", what, cursor);
    exit(2);
}

static void skip_space(void)
{
    while (isspace((unsigned char)*cursor))
        cursor++;
}

static void expect(char c)
{
    skip_space();
    if (*cursor != c)
        fail_parse("unexpected character");
    cursor++;
}

static char *parse_string(void)
{
    const char *end;
    char *text;

    expect('"');
    end = strchr(cursor, '"');
    if (!end || memchr(cursor, '\\', (size_t)(end - cursor)))
        fail_parse("string (escapes are not used in the vectors)");
    text = malloc((size_t)(end - cursor) + 1);
    if (!text)
        exit(2);
    memcpy(text, cursor, (size_t)(end - cursor));
    text[end - cursor] = '\0';
    cursor = end + 1;
    return text;
}

static int parse_record(record *r)
{
    skip_space();
    if (*cursor != '{')
        return 0;
    cursor++;
    r->count = 0;
    for (;;) {
        field *f;
        char *key;
        skip_space();
        if (*cursor == '}') {
            cursor++;
            return 1;
        }
        if (r->count)
            expect(',');
        if (r->count == MAX_FIELDS)
            fail_parse("too many fields");
        f = &r->fields[r->count++];
        key = parse_string();
        snprintf(f->key, sizeof f->key, "%s", key);
        free(key);
        expect(':');
        skip_space();
        if (*cursor == '"') {
            f->text = parse_string();
        } else {
            char *end;
            f->text = NULL;
            f->number = strtol(cursor, &end, 10);
            if (end == cursor)
                fail_parse("number");
            cursor = end;
        }
    }
}

static void free_record(record *r)
{
    int i;
    for (i = 0; i < r->count; i++)
        free(r->fields[i].text);
}

static const field *get(const record *r, const char *key)
{
    int i;
    for (i = 0; i < r->count; i++)
        if (strcmp(r->fields[i].key, key) == 0)
            return &r->fields[i];
    fprintf(stderr, "vectors: record lacks \"%s\"\n", key);
    exit(2);
}

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = strlen(hex) / 2, i;
    for (i = 0; i < n; i++) {
        unsigned byte;
        if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
            fail_parse("hex");
        out[i] = (uint8_t)byte;
    }
    return n;
}

static void check(int ok, const char *section, const char *name, const char *what)
{
    checks++;
    if (!ok) {
        failures++;
        fprintf(stderr, "FAIL %s \"%s\": %s\n", section, name, what);
    }
}

/* Feeding a whole wire frame to the streaming decoder: remember what came out. */
typedef struct {
    int frames, faults;
    enum ps_fault fault;
    ps_frame frame;
} outcome;

static void collect(void *ctx, const ps_frame *frame, enum ps_fault fault)
{
    outcome *o = ctx;
    if (fault == PS_OK) {
        o->frames++;
        o->frame = *frame;
    } else {
        o->faults++;
        o->fault = fault;
    }
}

static uint8_t a[PS_MAX_WIRE], b[PS_MAX_WIRE], payload[PS_MAX_PAYLOAD], scratch[PS_MAX_RAW];
static ps_decoder decoder;

static void check_record(const char *section, const record *r)
{
    if (strcmp(section, "crc32c") == 0) {
        size_t n = unhex(get(r, "data")->text, a);
        unsigned long crc = strtoul(get(r, "crc")->text, NULL, 16);
        check(ps_crc32c(a, n) == crc, section, get(r, "crc")->text, "CRC differs");
    } else if (strcmp(section, "cobs") == 0) {
        const char *name = get(r, "name")->text;
        size_t n = unhex(get(r, "decoded")->text, a), m = unhex(get(r, "encoded")->text, b);
        uint8_t out[PS_MAX_WIRE];
        size_t e = ps_cobs_encode(a, n, out);
        long d;
        check(e == m && memcmp(out, b, m) == 0, section, name, "encoding differs");
        d = ps_cobs_decode(b, m, out);
        check(d == (long)n && memcmp(out, a, n) == 0, section, name, "decoding differs");
    } else if (strcmp(section, "frames") == 0) {
        const char *name = get(r, "name")->text;
        size_t plen = unhex(get(r, "payload")->text, payload);
        size_t wlen = unhex(get(r, "wire")->text, b);
        ps_frame f = { (uint16_t)get(r, "device_id")->number, (uint8_t)get(r, "msg_type")->number,
                       (uint16_t)get(r, "seq")->number, (uint16_t)get(r, "ack")->number,
                       (uint16_t)plen, payload };
        outcome o = { 0, 0, PS_OK, { 0, 0, 0, 0, 0, NULL } };
        size_t n = ps_frame_encode(&f, scratch, a);
        check(n == wlen && memcmp(a, b, n) == 0, section, name, "encoding differs");
        ps_decoder_feed(&decoder, b, wlen, collect, &o);
        check(o.frames == 1 && o.faults == 0, section, name, "decoder did not yield one frame");
        check(o.frame.device_id == f.device_id && o.frame.msg_type == f.msg_type &&
                  o.frame.seq == f.seq && o.frame.ack == f.ack && o.frame.length == plen &&
                  memcmp(o.frame.payload, f.payload, plen) == 0,
              section, name, "decoded fields differ");
    } else if (strcmp(section, "rejected") == 0) {
        const char *name = get(r, "name")->text;
        size_t wlen = unhex(get(r, "wire")->text, b);
        outcome o = { 0, 0, PS_OK, { 0, 0, 0, 0, 0, NULL } };
        ps_decoder_feed(&decoder, b, wlen, collect, &o);
        check(o.frames == 0 && o.faults == 1 &&
                  strcmp(ps_fault_name(o.fault), get(r, "reason")->text) == 0,
              section, name, "not rejected for the expected reason");
    }
}

int main(int argc, char **argv)
{
    static char text[1 << 20];
    size_t n;
    FILE *in;

    if (argc != 2) {
        fprintf(stderr, "usage: %s protocol_vectors.json\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "r");
    if (!in) {
        perror(argv[1]);
        return 2;
    }
    n = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[n] = '\0';
    ps_decoder_init(&decoder);
    cursor = text;
    expect('{');
    for (;;) {
        char *section;
        skip_space();
        if (*cursor == '}')
            break;
        if (*cursor == ',')
            cursor++;
        section = parse_string();
        expect(':');
        skip_space();
        if (*cursor == '"') {
            free(parse_string()); /* a comment */
        } else {
            record r;
            expect('[');
            while (parse_record(&r)) {
                check_record(section, &r);
                free_record(&r);
                skip_space();
                if (*cursor == ',')
                    cursor++;
            }
            expect(']');
        }
        free(section);
    }
    printf("test_vectors: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
