/* pollsim-stub: a minimal voting device on a pseudo-terminal, in C99 (docs/protocol.md).
 *
 * It opens a pty, prints the path of its host end on the first line of stdout, and answers
 * IDENTIFY, STATUS, COUNTERS and CVRS (chunked) for the ballots in a fixture file. Every
 * other request of the protocol is refused with UNSUPPORTED. It follows the reliable link's
 * rules: ACK every intact data frame, NAK every rejected run, deliver each request once,
 * retransmit an unacknowledged reply every 500 ms, at most 10 times.
 *
 * Usage: pollsim-stub FIXTURE          (fixture format: firmware_stubs/README.md)
 */
#define _XOPEN_SOURCE 600

#include "pollsim_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

enum { ACK = 0x01, NAK = 0x02, IDENTIFY = 0x10, STATUS = 0x11, COUNTERS = 0x15, CVRS = 0x17,
       LAST_REQUEST = 0x1D, REPLY = 0x80, ERROR = 0xFF };
enum { UNKNOWN_MESSAGE = 1, UNSUPPORTED = 2, BAD_REQUEST = 3, OUT_OF_RANGE = 7 };
enum { ACK_TIMEOUT_MS = 500, RETRIES = 10, CHUNK_HEADER = 12 };

typedef struct {
    unsigned device_id;
    char kind[64], model[64], serial[64], firmware[64];
    unsigned long protective;
    long clock;
    size_t rows, width;
    uint8_t *marks; /* rows x width, 0 or 1 */
} fixture;

typedef struct {
    int fd;
    const fixture *device;
    uint16_t next_seq, last_delivered, last_key_seq, last_key_ack;
    int have_key, peer_acknowledged;
    uint16_t awaiting;     /* our reply awaiting acknowledgement, 0 if none */
    int retries;
    long deadline_ms;
    uint8_t raw[PS_MAX_RAW], wire[PS_MAX_WIRE], reply[PS_MAX_PAYLOAD];
    size_t wire_len;       /* the awaiting reply, kept for retransmission */
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

/* --- the fixture -------------------------------------------------------------------------- */

static void check_word(const char *path, const char *word)
{
    static const char allowed[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_";
    if (strspn(word, allowed) != strlen(word)) {
        fprintf(stderr, "%s: %s: use letters, digits, '.', '-' and '_' only\n", path, word);
        exit(2);
    }
}

static void load_fixture(const char *path, fixture *f)
{
    char line[4096];
    size_t capacity = 0, lineno = 0;
    FILE *in = fopen(path, "r");

    if (!in)
        die(path);
    memset(f, 0, sizeof *f);
    strcpy(f->kind, "scan-single");
    strcpy(f->model, "pollsim-stub");
    strcpy(f->firmware, "stub-1.0");
    while (fgets(line, sizeof line, in)) {
        size_t len = strcspn(line, "\r\n"), i;
        lineno++;
        line[len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (line[0] == '0' || line[0] == '1') {
            if (f->width == 0)
                f->width = len;
            if (len != f->width || strspn(line, "01") != len) {
                fprintf(stderr, "%s:%zu: rows must be 0/1 and all %zu wide\n", path, lineno,
                        f->width);
                exit(2);
            }
            if (f->rows == capacity) {
                capacity = capacity ? 2 * capacity : 64;
                f->marks = realloc(f->marks, capacity * f->width);
                if (!f->marks)
                    die("realloc");
            }
            for (i = 0; i < len; i++)
                f->marks[f->rows * f->width + i] = (uint8_t)(line[i] - '0');
            f->rows++;
        } else if (sscanf(line, "device_id %u", &f->device_id) != 1 &&
                   sscanf(line, "kind %63s", f->kind) != 1 &&
                   sscanf(line, "model %63s", f->model) != 1 &&
                   sscanf(line, "serial %63s", f->serial) != 1 &&
                   sscanf(line, "firmware %63s", f->firmware) != 1 &&
                   sscanf(line, "protective %lu", &f->protective) != 1 &&
                   sscanf(line, "clock %ld", &f->clock) != 1) {
            fprintf(stderr, "%s:%zu: unknown line: %s\n", path, lineno, line);
            exit(2);
        }
    }
    fclose(in);
    if (f->device_id == 0 || f->device_id >= PS_BROADCAST_ID) {
        fprintf(stderr, "%s: device_id must be 1..65534\n", path);
        exit(2);
    }
    if (f->serial[0] == '\0')
        snprintf(f->serial, sizeof f->serial, "STUB-%04u", f->device_id);
    check_word(path, f->kind);
    check_word(path, f->model);
    check_word(path, f->serial);
    check_word(path, f->firmware);
    if (f->width > (PS_MAX_PAYLOAD - CHUNK_HEADER)) {
        fprintf(stderr, "%s: rows too wide\n", path);
        exit(2);
    }
}

/* --- sending ------------------------------------------------------------------------------ */

static void send_control(link_state *l, uint8_t type, uint16_t ack)
{
    uint8_t wire[64];
    ps_frame f = { (uint16_t)l->device->device_id, type, 0, ack, 0, NULL };
    write_all(l->fd, wire, ps_frame_encode(&f, l->raw, wire));
}

static void send_reply(link_state *l, uint8_t type, size_t length)
{
    ps_frame f = { (uint16_t)l->device->device_id, type, l->next_seq, l->last_delivered,
                   (uint16_t)length, l->reply };
    l->awaiting = l->next_seq;
    l->next_seq = (uint16_t)(l->next_seq % 0xFFFFu + 1);
    l->wire_len = ps_frame_encode(&f, l->raw, l->wire);
    l->retries = 0;
    write_all(l->fd, l->wire, l->wire_len);
    l->deadline_ms = now_ms() + ACK_TIMEOUT_MS;
}

static void retransmit(link_state *l)
{
    if (++l->retries > RETRIES) {
        fprintf(stderr, "pollsim-stub: frame seq %u not acknowledged after %d retransmissions\n",
                l->awaiting, RETRIES);
        l->awaiting = 0;
        return;
    }
    write_all(l->fd, l->wire, l->wire_len);
    l->deadline_ms = now_ms() + ACK_TIMEOUT_MS;
}

static void refuse(link_state *l, uint16_t code, const char *detail)
{
    size_t len = strlen(detail);
    l->reply[0] = (uint8_t)(code >> 8);
    l->reply[1] = (uint8_t)code;
    memcpy(l->reply + 2, detail, len);
    send_reply(l, ERROR, 2 + len);
}

/* --- answering ---------------------------------------------------------------------------- */

static void answer(link_state *l, const ps_frame *request)
{
    const fixture *d = l->device;
    uint8_t *r = l->reply;
    uint8_t type = request->msg_type;

    if (type < IDENTIFY || type > LAST_REQUEST) {
        refuse(l, UNKNOWN_MESSAGE, "unknown message type");
    } else if (type != IDENTIFY && type != STATUS && type != COUNTERS && type != CVRS) {
        refuse(l, UNSUPPORTED, "not in pollsim-stub");
    } else if (type != CVRS && request->length != 0) {
        refuse(l, BAD_REQUEST, "this request takes no payload");
    } else if (type == IDENTIFY) {
        int n = snprintf((char *)r, PS_MAX_PAYLOAD,
                         "{\"device_id\":%u,\"kind\":\"%s\",\"model\":\"%s\",\"serial\":\"%s\","
                         "\"firmware\":\"%s\"}",
                         d->device_id, d->kind, d->model, d->serial, d->firmware);
        send_reply(l, IDENTIFY | REPLY, (size_t)n);
    } else if (type == STATUS) {
        int n = snprintf((char *)r, PS_MAX_PAYLOAD,
                         "{\"polls\":\"final\",\"test_mode\":false,\"clock\":%ld,\"faults\":[]}",
                         d->clock);
        send_reply(l, STATUS | REPLY, (size_t)n);
    } else if (type == COUNTERS) {
        int n = snprintf((char *)r, PS_MAX_PAYLOAD, "{\"public\":%zu,\"protective\":%lu}",
                         d->rows, d->protective);
        send_reply(l, COUNTERS | REPLY, (size_t)n);
    } else if (request->length != 6) {
        refuse(l, BAD_REQUEST, "a chunk request is 6 bytes");
    } else {
        const uint8_t *p = request->payload;
        size_t offset = ((size_t)p[0] << 24) | ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
        size_t count = ((size_t)p[4] << 8) | p[5];
        size_t fits = (PS_MAX_PAYLOAD - CHUNK_HEADER) / (d->width ? d->width : 1);
        if (offset > d->rows) {
            refuse(l, OUT_OF_RANGE, "offset past the last record");
            return;
        }
        if (count > d->rows - offset)
            count = d->rows - offset;
        if (count > fits)
            count = fits;
        r[0] = (uint8_t)(offset >> 24); r[1] = (uint8_t)(offset >> 16);
        r[2] = (uint8_t)(offset >> 8);  r[3] = (uint8_t)offset;
        r[4] = (uint8_t)(d->rows >> 24); r[5] = (uint8_t)(d->rows >> 16);
        r[6] = (uint8_t)(d->rows >> 8);  r[7] = (uint8_t)d->rows;
        r[8] = (uint8_t)(count >> 8);    r[9] = (uint8_t)count;
        r[10] = (uint8_t)(d->width >> 8); r[11] = (uint8_t)d->width;
        memcpy(r + CHUNK_HEADER, d->marks + offset * d->width, count * d->width);
        send_reply(l, CVRS | REPLY, CHUNK_HEADER + count * d->width);
    }
}

/* --- receiving: the reliable link's rules ------------------------------------------------- */

static void acknowledged(link_state *l, uint16_t seq)
{
    if (l->awaiting && seq == l->awaiting) {
        l->awaiting = 0;
        l->peer_acknowledged = 1;
    }
}

static void on_frame(void *ctx, const ps_frame *frame, enum ps_fault fault)
{
    link_state *l = ctx;
    int duplicate;

    if (fault != PS_OK) {
        send_control(l, NAK, l->last_delivered);
        return;
    }
    if (frame->device_id != l->device->device_id && frame->device_id != PS_BROADCAST_ID)
        return; /* for another device on the line */
    if (frame->msg_type == ACK) {
        acknowledged(l, frame->ack);
        return;
    }
    if (frame->msg_type == NAK) {
        if (l->awaiting)
            retransmit(l);
        return;
    }
    send_control(l, ACK, frame->seq);
    acknowledged(l, frame->ack);
    if (frame->ack == 0 && l->peer_acknowledged) {
        duplicate = 0; /* a restarted host */
        l->peer_acknowledged = 0;
    } else {
        duplicate = l->have_key && frame->seq == l->last_key_seq && frame->ack == l->last_key_ack;
    }
    if (duplicate)
        return;
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

    if (argc != 2) {
        fprintf(stderr, "usage: %s FIXTURE\n", argv[0]);
        return 2;
    }
    load_fixture(argv[1], &device);
    link.device = &device;
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
            retransmit(&link);
    }
}
