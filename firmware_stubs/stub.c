/* pollsim-stub: a minimal voting device on a pseudo-terminal, in C99 (docs/protocol.md).
 *
 * It opens a pty, prints the path of its host end on the first line of stdout, and answers
 * IDENTIFY, STATUS, COUNTERS, TALLY, CVRS (chunked) and EVENT_LOG (chunked, hash-chained) for
 * the ballots in a fixture file; every other request of the protocol is refused with
 * UNSUPPORTED. It follows the link's rules of section 4: it answers SYNC (no fragments), ACKs
 * every intact data frame, NAKs a rejected run unless it is short or a reply awaits its ACK,
 * delivers each request once, sends its reply again when the host repeats the request, drops
 * it when the host moves on, and retransmits an unacknowledged reply with backoff (500 ms
 * doubling to 4 s), 10 timeouts at most (NAKs do not count); after a damaged run, a NAK or a
 * timeout it sends each ACK and NAK three times and closes each data frame with two zeros for
 * the next 32 frames (L8). Given a key, it seals IDENTIFY, STATUS, COUNTERS, TALLY and CVRS as
 * section 8 says, bound to its scope, with a counter that never repeats.
 *
 * Usage: pollsim-stub FIXTURE [KEY_HEX]        (fixture format: firmware_stubs/README.md)
 */
#define _XOPEN_SOURCE 600

#include "pollsim_frame.h"
#include "pollsim_seal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { ACK = 0x01, NAK = 0x02, SYNC = 0x03, SYNC_ACK = 0x04, IDENTIFY = 0x10, STATUS = 0x11,
       COUNTERS = 0x15, TALLY = 0x16, CVRS = 0x17, EVENT_LOG = 0x19, LAST_REQUEST = 0x1D,
       REPLY = 0x80, ERROR = 0xFF };
enum { UNKNOWN_MESSAGE = 1, UNSUPPORTED = 2, BAD_REQUEST = 3, OUT_OF_RANGE = 7 };
enum { ACK_TIMEOUT_MS = 500, MAX_BACKOFF_MS = 4000, RETRIES = 10, CHUNK_HEADER = 12,
       LOG_HEADER = 10, MAX_CONTESTS = 64 };

typedef struct {
    unsigned device_id;
    char kind[64], model[64], serial[64], firmware[64], memory_card[64], definition_hash[65];
    unsigned long protective;
    long clock;
    size_t rows, width, contests, choices[MAX_CONTESTS], vote_for[MAX_CONTESTS];
    uint8_t *marks;   /* rows x width, 0 or 1 */
    char **log;       /* each event-log entry as its JSON object */
    size_t log_len;
    char log_head[65];
    uint8_t key[64];
    size_t key_len;   /* 0: results go out unsealed */
    uint8_t scope[32];
    uint64_t counter; /* the last seal counter used */
} fixture;

typedef struct {
    int fd;
    fixture *device;
    const ps_decoder *decoder;
    uint16_t next_seq, last_delivered, last_key_seq, last_key_ack, reply_for, reply_seq;
    int have_key, have_reply;
    uint16_t awaiting;     /* our reply awaiting acknowledgement, 0 if none */
    int timeouts;
    int noisy;             /* frames to go before the line counts as clean again (L8) */
    long deadline_ms, backoff_ms;
    uint8_t raw[PS_MAX_RAW], wire[PS_MAX_WIRE + 1], reply[PS_MAX_PAYLOAD], body[PS_MAX_PAYLOAD];
    size_t wire_len;       /* the last reply, kept for retransmission */
} link_state;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void write_all(int fd, const uint8_t *data, size_t len)
{
    while (len) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        data += n;
        len -= (size_t)n;
    }
}

static void put32(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* --- the fixture and its event log --------------------------------------------------------- */

static void bad(const char *path, size_t lineno, const char *why)
{
    fprintf(stderr, "%s:%zu: %s\n", path, lineno, why);
    exit(2);
}

static void check_word(const char *path, const char *word)
{
    static const char allowed[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_";
    if (strspn(word, allowed) != strlen(word)) {
        fprintf(stderr, "%s: %s: use letters, digits, '.', '-' and '_' only\n", path, word);
        exit(2);
    }
}

static void read_contests(const char *path, size_t lineno, char *list, fixture *f)
{
    char *item = strtok(list, " ");
    for (; item; item = strtok(NULL, " ")) {
        unsigned choices, vote_for;
        if (f->contests == MAX_CONTESTS || sscanf(item, "%u:%u", &choices, &vote_for) != 2 ||
            vote_for < 1 || vote_for > choices)
            bad(path, lineno, "contests are CHOICES:VOTE_FOR items, 1 <= VOTE_FOR <= CHOICES");
        f->choices[f->contests] = choices;
        f->vote_for[f->contests++] = vote_for;
    }
}

static void add_event(fixture *f, const char *event_id, const char *description)
{
    char canonical[512], entry[1024], stamp[32], head[65];
    uint8_t previous[32], digest[32];
    ps_sha256_ctx ctx;
    time_t t = (time_t)f->clock;
    size_t i, n = f->log_len + 1;

    snprintf(canonical, sizeof canonical, "%zu|%ld|%s|%s|success|%s", n, f->clock, f->serial, event_id,
             description);
    for (i = 0; i < 32; i++)
        sscanf(f->log_head + 2 * i, "%2hhx", &previous[i]);
    ps_sha256_init(&ctx);
    ps_sha256_update(&ctx, previous, 32);
    ps_sha256_update(&ctx, (const uint8_t *)canonical, strlen(canonical));
    ps_sha256_final(&ctx, digest);
    ps_hex(digest, 32, head);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S.000Z", gmtime(&t));
    snprintf(entry, sizeof entry,
             "{\"sequence\":%zu,\"timestamp\":\"%s\",\"event_id\":\"%s\",\"disposition\":\"success\","
             "\"description\":\"%s\",\"hash\":\"%s\",\"canonical\":\"%s\"}",
             n, stamp, event_id, description, head, canonical);
    f->log = realloc(f->log, n * sizeof *f->log);
    if (!f->log || !(f->log[n - 1] = malloc(strlen(entry) + 1)))
        die("malloc");
    strcpy(f->log[n - 1], entry);
    memcpy(f->log_head, head, sizeof head);
    f->log_len = n;
}

static void load_fixture(const char *path, fixture *f)
{
    char line[4096], scope[256], loaded[128];
    size_t capacity = 0, lineno = 0, i, sum = 0;
    ps_sha256_ctx whole;
    uint8_t digest[32];
    FILE *in = fopen(path, "r");

    if (!in)
        die(path);
    strcpy(f->kind, "scan-single");
    strcpy(f->model, "pollsim-stub");
    strcpy(f->firmware, "stub-1.0");
    ps_sha256_init(&whole);
    while (fgets(line, sizeof line, in)) {
        size_t len;
        ps_sha256_update(&whole, (const uint8_t *)line, strlen(line));
        len = strcspn(line, "\r\n");
        lineno++;
        line[len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (line[0] == '0' || line[0] == '1') {
            if (f->width == 0)
                f->width = len;
            if (len != f->width || strspn(line, "01") != len)
                bad(path, lineno, "rows must be 0/1 and all the same width");
            if (f->rows == capacity) {
                capacity = capacity ? 2 * capacity : 64;
                f->marks = realloc(f->marks, capacity * f->width);
                if (!f->marks)
                    die("realloc");
            }
            for (i = 0; i < len; i++)
                f->marks[f->rows * f->width + i] = (uint8_t)(line[i] - '0');
            f->rows++;
        } else if (strncmp(line, "contests ", 9) == 0) {
            read_contests(path, lineno, line + 9, f);
        } else if (sscanf(line, "device_id %u", &f->device_id) != 1 &&
                   sscanf(line, "kind %63s", f->kind) != 1 &&
                   sscanf(line, "model %63s", f->model) != 1 &&
                   sscanf(line, "serial %63s", f->serial) != 1 &&
                   sscanf(line, "firmware %63s", f->firmware) != 1 &&
                   sscanf(line, "memory_card %63s", f->memory_card) != 1 &&
                   sscanf(line, "definition_hash %64s", f->definition_hash) != 1 &&
                   sscanf(line, "protective %lu", &f->protective) != 1 &&
                   sscanf(line, "clock %ld", &f->clock) != 1) {
            bad(path, lineno, "unknown line");
        }
    }
    fclose(in);
    if (f->device_id == 0 || f->device_id >= PS_BROADCAST_ID)
        bad(path, lineno, "device_id must be 1..65534");
    if (f->serial[0] == '\0')
        snprintf(f->serial, sizeof f->serial, "STUB-%04u", f->device_id);
    if (f->memory_card[0] == '\0')
        snprintf(f->memory_card, sizeof f->memory_card, "stub-card-%04u", f->device_id);
    if (f->definition_hash[0] == '\0') { /* the fixture itself stands for the election loaded */
        ps_sha256_final(&whole, digest);
        ps_hex(digest, 32, f->definition_hash);
    }
    if (strlen(f->definition_hash) != 64 || strspn(f->definition_hash, "0123456789abcdef") != 64)
        bad(path, lineno, "definition_hash must be 64 lower-case hex digits");
    check_word(path, f->kind);
    check_word(path, f->model);
    check_word(path, f->serial);
    check_word(path, f->firmware);
    check_word(path, f->memory_card);
    for (i = 0; i < f->contests; i++)
        sum += f->choices[i];
    if (f->contests && sum != f->width)
        bad(path, lineno, "the contests' choices must add up to the width of the rows");
    if (f->width > (PS_MAX_PAYLOAD - CHUNK_HEADER - PS_ENVELOPE_SIZE))
        bad(path, lineno, "rows too wide");
    snprintf(scope, sizeof scope, "%s|%s|%s", f->serial, f->definition_hash, f->memory_card);
    ps_sha256((const uint8_t *)scope, strlen(scope), f->scope);
    memcpy(f->log_head, f->definition_hash, 65);
    snprintf(loaded, sizeof loaded, "sha256=%s", f->definition_hash);
    add_event(f, "election-definition-loaded", loaded);
    add_event(f, "state-polls-open", "");
    for (i = 0; i < f->rows; i++)
        add_event(f, "ballot-cast", "");
    add_event(f, "state-polls-closed", "");
}

static void read_key(const char *hex, fixture *f)
{
    size_t i, len = strlen(hex);
    struct timespec ts;

    if (len % 2 || len < 32 || len > 128 || strspn(hex, "0123456789abcdefABCDEF") != len) {
        fprintf(stderr, "pollsim-stub: KEY_HEX must be 32 to 128 hex digits\n");
        exit(2);
    }
    for (i = 0; i < len / 2; i++)
        sscanf(hex + 2 * i, "%2hhx", &f->key[i]);
    f->key_len = len / 2;
    clock_gettime(CLOCK_REALTIME, &ts); /* no memory to keep a counter in: count from the clock */
    f->counter = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- sending ------------------------------------------------------------------------------ */

static void send_control(link_state *l, uint8_t type, uint16_t ack, const uint8_t *payload, uint16_t len)
{
    uint8_t wire[64];
    ps_frame f = { (uint16_t)l->device->device_id, type, 0, ack, len, payload };
    size_t n = ps_frame_encode(&f, l->raw, wire);
    write_all(l->fd, wire, n);
    if (l->noisy && (type == ACK || type == NAK)) { /* a noisy line: two more copies, sharing delimiters (L8) */
        write_all(l->fd, wire + 1, n - 1);
        write_all(l->fd, wire + 1, n - 1);
    }
}

static void transmit(link_state *l)
{
    write_all(l->fd, l->wire, l->wire_len);
    l->deadline_ms = now_ms() + l->backoff_ms;
}

/* Send l->body (length bytes) as the reply, sealed first if asked and a key is loaded. */
static void send_reply(link_state *l, uint8_t type, size_t length, int sealed)
{
    fixture *d = l->device;
    ps_frame f = { (uint16_t)d->device_id, type, l->next_seq, l->last_delivered, 0, l->reply };

    if (sealed && d->key_len) {
        ps_seal(d->key, d->key_len, ++d->counter, d->scope, l->body, length, l->reply);
        memcpy(l->reply + PS_ENVELOPE_SIZE, l->body, length);
        length += PS_ENVELOPE_SIZE;
    } else {
        memcpy(l->reply, l->body, length);
    }
    f.length = (uint16_t)length;
    l->awaiting = l->reply_seq = l->next_seq;
    l->next_seq = (uint16_t)(l->next_seq % 0xFFFFu + 1);
    l->wire_len = ps_frame_encode(&f, l->raw, l->wire);
    if (l->noisy) /* a second delimiter: a damaged last byte still closes the frame (L8) */
        l->wire[l->wire_len++] = 0;
    l->have_reply = 1;
    l->reply_for = l->last_delivered;
    l->timeouts = 0;
    l->backoff_ms = ACK_TIMEOUT_MS;
    transmit(l);
}

static void on_timeout(link_state *l)
{
    l->noisy = 32;
    if (++l->timeouts > RETRIES) {
        fprintf(stderr, "pollsim-stub: frame seq %u not acknowledged after %d retransmissions\n",
                l->awaiting, RETRIES);
        l->awaiting = 0;
        return;
    }
    l->backoff_ms = l->backoff_ms * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : l->backoff_ms * 2;
    transmit(l);
}

static void refuse(link_state *l, uint16_t code, const char *detail)
{
    size_t len = strlen(detail);
    l->body[0] = (uint8_t)(code >> 8);
    l->body[1] = (uint8_t)code;
    memcpy(l->body + 2, detail, len);
    send_reply(l, ERROR, 2 + len, 0);
}

/* --- answering ---------------------------------------------------------------------------- */

static size_t identity(const fixture *d, char *out)
{
    int n = snprintf(out, PS_MAX_PAYLOAD,
                     "{\"device_id\":%u,\"kind\":\"%s\",\"model\":\"%s\",\"serial\":\"%s\",\"firmware\":\"%s\"%s,"
                     "\"definition_hash\":\"%s\",\"memory_card\":\"%s\"",
                     d->device_id, d->kind, d->model, d->serial, d->firmware,
                     d->key_len ? ",\"sealed\":true" : "", d->definition_hash, d->memory_card);
    size_t i;
    if (d->contests) {
        n += snprintf(out + n, PS_MAX_PAYLOAD - (size_t)n, ",\"contests\":[");
        for (i = 0; i < d->contests; i++)
            n += snprintf(out + n, PS_MAX_PAYLOAD - (size_t)n, "%s[%zu,%zu]", i ? "," : "", d->choices[i],
                          d->vote_for[i]);
        n += snprintf(out + n, PS_MAX_PAYLOAD - (size_t)n, "]");
    }
    return (size_t)n + (size_t)snprintf(out + n, PS_MAX_PAYLOAD - (size_t)n, "}");
}

/* TALLY: each choice's votes, an overvoted contest counting for no one on that ballot. */
static size_t tally(const fixture *d, uint8_t *out)
{
    size_t row, c, j, start = 0;
    out[0] = (uint8_t)(d->width >> 8);
    out[1] = (uint8_t)d->width;
    memset(out + 2, 0, 4 * d->width);
    for (c = 0; c < d->contests; start += d->choices[c++]) {
        for (row = 0; row < d->rows; row++) {
            const uint8_t *marks = d->marks + row * d->width + start;
            size_t marked = 0;
            for (j = 0; j < d->choices[c]; j++)
                marked += marks[j];
            if (marked > d->vote_for[c])
                continue;
            for (j = 0; j < d->choices[c]; j++) {
                uint8_t *total = out + 2 + 4 * (start + j);
                size_t v = ((size_t)total[0] << 24 | (size_t)total[1] << 16 | (size_t)total[2] << 8 | total[3]) + marks[j];
                put32(total, v);
            }
        }
    }
    return 2 + 4 * d->width;
}

static int chunk_request(link_state *l, const ps_frame *request, size_t total, size_t *offset, size_t *count)
{
    const uint8_t *p = request->payload;
    if (request->length != 6) {
        refuse(l, BAD_REQUEST, "a chunk request is 6 bytes");
        return 0;
    }
    *offset = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    *count = ((size_t)p[4] << 8) | p[5];
    if (*offset > total) {
        refuse(l, OUT_OF_RANGE, "offset past the last record");
        return 0;
    }
    if (*count > total - *offset)
        *count = total - *offset;
    return 1;
}

static void answer(link_state *l, const ps_frame *request)
{
    fixture *d = l->device;
    uint8_t *r = l->body;
    uint8_t type = request->msg_type;
    size_t offset, count, i, room, n;

    if (type < IDENTIFY || type > LAST_REQUEST) {
        refuse(l, UNKNOWN_MESSAGE, "unknown message type");
    } else if (type != IDENTIFY && type != STATUS && type != COUNTERS && type != CVRS && type != EVENT_LOG &&
               !(type == TALLY && d->contests)) {
        refuse(l, UNSUPPORTED, "not in pollsim-stub");
    } else if (type != CVRS && type != EVENT_LOG && request->length != 0) {
        refuse(l, BAD_REQUEST, "this request takes no payload");
    } else if (type == IDENTIFY) {
        send_reply(l, IDENTIFY | REPLY, identity(d, (char *)r), 1);
    } else if (type == STATUS) {
        n = (size_t)snprintf((char *)r, PS_MAX_PAYLOAD,
                             "{\"polls\":\"final\",\"test_mode\":false,\"clock\":%ld,\"faults\":[]}", d->clock);
        send_reply(l, STATUS | REPLY, n, 1);
    } else if (type == COUNTERS) {
        n = (size_t)snprintf((char *)r, PS_MAX_PAYLOAD,
                             "{\"public\":%zu,\"protective\":%lu,\"log_entries\":%zu,\"log_head\":\"%s\"}",
                             d->rows, d->protective, d->log_len, d->log_head);
        send_reply(l, COUNTERS | REPLY, n, 1);
    } else if (type == TALLY) {
        send_reply(l, TALLY | REPLY, tally(d, r), 1);
    } else if (type == CVRS) {
        size_t fits = (PS_MAX_PAYLOAD - CHUNK_HEADER - (d->key_len ? PS_ENVELOPE_SIZE : 0)) / (d->width ? d->width : 1);
        if (!chunk_request(l, request, d->rows, &offset, &count))
            return;
        if (count > fits)
            count = fits;
        put32(r, offset);
        put32(r + 4, d->rows);
        r[8] = (uint8_t)(count >> 8); r[9] = (uint8_t)count;
        r[10] = (uint8_t)(d->width >> 8); r[11] = (uint8_t)d->width;
        memcpy(r + CHUNK_HEADER, d->marks + offset * d->width, count * d->width);
        send_reply(l, CVRS | REPLY, CHUNK_HEADER + count * d->width, 1);
    } else {
        if (!chunk_request(l, request, d->log_len, &offset, &count))
            return;
        n = LOG_HEADER + 1;
        r[LOG_HEADER] = '[';
        room = PS_MAX_PAYLOAD - LOG_HEADER - 2;
        for (i = 0; i < count; i++) { /* as many entries as fit, at least one */
            size_t len = strlen(d->log[offset + i]) + (i ? 1 : 0);
            if (len > room && i)
                break;
            if (i)
                r[n++] = ',';
            memcpy(r + n, d->log[offset + i], len - (i ? 1 : 0));
            n += len - (i ? 1 : 0);
            room -= len;
        }
        r[n++] = ']';
        put32(r, offset);
        put32(r + 4, d->log_len);
        r[8] = (uint8_t)(i >> 8); r[9] = (uint8_t)i;
        send_reply(l, EVENT_LOG | REPLY, n, 0);
    }
}

/* --- receiving: the reliable link's rules ------------------------------------------------- */

static void on_frame(void *ctx, const ps_frame *frame, enum ps_fault fault)
{
    link_state *l = ctx;

    if (fault != PS_OK) {
        l->noisy = 32;
        /* not for a damaged ACK or NAK (a short run), nor while a reply awaits its ACK (L5) */
        if (l->decoder->last_run > 16 && !l->awaiting)
            send_control(l, NAK, l->last_delivered, NULL, 0);
        return;
    }
    if (frame->device_id != l->device->device_id && frame->device_id != PS_BROADCAST_ID)
        return; /* for another device on the line */
    if (l->noisy)
        l->noisy--;
    if (frame->msg_type == ACK) {
        if (l->awaiting && frame->ack == l->awaiting)
            l->awaiting = 0;
        return;
    }
    if (frame->msg_type == NAK) {
        if (l->awaiting) {
            l->noisy = 32;
            transmit(l); /* at once, and it spends none of the retries */
        }
        return;
    }
    if (frame->msg_type == SYNC) { /* a new session: forget everything (L2) */
        uint8_t reply[5];
        if (frame->length != 5)
            return;
        memcpy(reply, frame->payload, 4);
        reply[4] = 0; /* no fragments */
        l->awaiting = 0;
        l->next_seq = 1;
        l->last_delivered = 0;
        l->have_key = l->have_reply = 0;
        send_control(l, SYNC_ACK, 0, reply, 5);
        return;
    }
    if (frame->msg_type == SYNC_ACK)
        return;
    send_control(l, ACK, frame->seq, NULL, 0);
    if (l->awaiting && frame->ack == l->awaiting)
        l->awaiting = 0;
    if (l->have_key && frame->seq == l->last_key_seq && frame->ack == l->last_key_ack) {
        if (l->awaiting) /* the host repeats its request: it lacks our reply (L14) */
            transmit(l);
        else if (l->have_reply && l->reply_for == frame->seq) {
            l->awaiting = l->reply_seq; /* the same frame again */
            l->timeouts = 0;
            l->backoff_ms = ACK_TIMEOUT_MS;
            transmit(l);
        }
        return;
    }
    l->awaiting = 0; /* a new request: the host has moved on (L14) */
    l->last_delivered = frame->seq;
    l->last_key_seq = frame->seq;
    l->last_key_ack = frame->ack;
    l->have_key = 1;
    answer(l, frame);
}

/* --- the pseudo-terminal ------------------------------------------------------------------ */

static int open_pty(void)
{
    struct termios raw;
    int master = posix_openpt(O_RDWR | O_NOCTTY), held;
    const char *path;

    if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
        die("posix_openpt");
    path = ptsname(master);
    if (!path)
        die("ptsname");
    /* Hold the host end open: reads never fail with EIO while no host is connected, and the
     * raw settings stay in force between host sessions. */
    held = open(path, O_RDWR | O_NOCTTY);
    if (held < 0 || tcgetattr(held, &raw) < 0)
        die(path);
    raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    raw.c_oflag &= ~(tcflag_t)OPOST;
    raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    raw.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
    raw.c_cflag |= CS8;
    if (tcsetattr(held, TCSANOW, &raw) < 0)
        die("tcsetattr");
    printf("%s\n", path);
    fflush(stdout);
    return master;
}

int main(int argc, char **argv)
{
    static fixture device;
    static link_state link;
    static ps_decoder decoder;
    uint8_t buffer[65536];

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s FIXTURE [KEY_HEX]\n", argv[0]);
        return 2;
    }
    load_fixture(argv[1], &device);
    if (argc == 3)
        read_key(argv[2], &device);
    link.device = &device;
    link.decoder = &decoder;
    link.next_seq = 1;
    ps_decoder_init(&decoder);
    link.fd = open_pty();
    for (;;) {
        struct pollfd pfd = { link.fd, POLLIN, 0 };
        int wait = link.awaiting ? (int)(link.deadline_ms - now_ms()) : -1;
        int ready = poll(&pfd, 1, link.awaiting && wait < 0 ? 0 : wait);
        if (ready < 0 && errno != EINTR)
            die("poll");
        if (ready > 0) {
            ssize_t n = read(link.fd, buffer, sizeof buffer);
            if (n < 0 && errno != EINTR && errno != EAGAIN)
                die("read");
            if (n > 0)
                ps_decoder_feed(&decoder, buffer, (size_t)n, on_frame, &link);
        }
        if (link.awaiting && now_ms() >= link.deadline_ms)
            on_timeout(&link);
    }
}
