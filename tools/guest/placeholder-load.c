/* SPDX-License-Identifier: MIT */
/*
 * A stand-in for kvmgrid-load inside the e2e guest, used only until the real, static
 * kvmgrid-load exists (tools/guest/build-image.sh takes either). It proves the guest
 * chain: boot, network to the host's broker through user-mode networking, a retained
 * state message, commands arriving over MQTT, and load the hypervisor can see.
 *
 * It speaks just enough MQTT 3.1.1 over a plain TCP socket (no library, so that a
 * static glibc build stays tiny): CONNECT with a retained will, a retained PUBLISH of
 * its state on <prefix>/<node>/load/state, SUBSCRIBE to <prefix>/<node>/load/cmd,
 * PINGREQ. A command payload containing "cpu" forks a busy loop, "disk" forks a
 * writer that fsyncs 1 MiB blocks into the current directory, "stop" kills them.
 * It is deliberately not the real command protocol (docs/PROTOCOL.md) and never
 * parses JSON. The broker address must be numeric IPv4: the guest has no resolver.
 *
 *   placeholder-load --listen --broker tcp://10.0.2.2:1883 --node NAME [--prefix P]
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KEEPALIVE_S 20
#define BUF_BYTES 4096

static pid_t cpu_pid = -1, disk_pid = -1;
static volatile sig_atomic_t stopping;

static void on_signal(int sig) { (void)sig; stopping = 1; }

/* Appends a 16-bit length-prefixed string. Returns the new length. */
static size_t put_str(unsigned char *b, size_t n, const char *s, size_t len)
{
    b[n++] = (unsigned char)(len >> 8);
    b[n++] = (unsigned char)(len & 0xff);
    memcpy(b + n, s, len);
    return n + len;
}

/* Frames body[0..len) as one packet of type byte hdr and writes it whole. */
static int send_packet(int fd, unsigned char hdr, const unsigned char *body, size_t len)
{
    unsigned char head[5];
    size_t n = 0, rem = len;
    head[n++] = hdr;
    do {
        unsigned char d = (unsigned char)(rem % 128);
        rem /= 128;
        if (rem > 0)
            d |= 0x80;
        head[n++] = d;
    } while (rem > 0 && n < sizeof head);
    if (write(fd, head, n) != (ssize_t)n)
        return -1;
    if (len > 0 && write(fd, body, len) != (ssize_t)len)
        return -1;
    return 0;
}

static int publish_retained(int fd, const char *topic, const char *payload)
{
    unsigned char b[BUF_BYTES];
    size_t tl = strlen(topic), pl = strlen(payload);
    if (tl + pl + 2 > sizeof b)
        return -1;
    size_t n = put_str(b, 0, topic, tl);
    memcpy(b + n, payload, pl);
    return send_packet(fd, 0x31, b, n + pl); /* PUBLISH, QoS0, retain */
}

static int mqtt_connect(const char *ip, int port, const char *client_id, const char *will_topic,
                        const char *will_payload)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    unsigned char b[BUF_BYTES];
    size_t n = put_str(b, 0, "MQTT", 4);
    b[n++] = 4;                                 /* protocol level 3.1.1 */
    b[n++] = 0x02 | 0x04 | 0x20;                /* clean session, will, will retain */
    b[n++] = 0;
    b[n++] = KEEPALIVE_S;
    n = put_str(b, n, client_id, strlen(client_id));
    n = put_str(b, n, will_topic, strlen(will_topic));
    n = put_str(b, n, will_payload, strlen(will_payload));
    unsigned char ack[4];
    if (send_packet(fd, 0x10, b, n) != 0 || read(fd, ack, 4) != 4 || ack[0] != 0x20 || ack[3] != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void stop_child(pid_t *pid)
{
    if (*pid > 0) {
        kill(*pid, SIGKILL);
        waitpid(*pid, NULL, 0);
        *pid = -1;
    }
}

static void start_cpu(void)
{
    if (cpu_pid > 0)
        return;
    cpu_pid = fork();
    if (cpu_pid == 0) {
        volatile uint64_t x = 0;
        for (;;)
            x++;
    }
}

static void start_disk(void)
{
    if (disk_pid > 0)
        return;
    disk_pid = fork();
    if (disk_pid == 0) {
        static char block[1 << 20];
        memset(block, 0x5a, sizeof block);
        for (unsigned i = 0;; i++) {
            int fd = open("placeholder-load.bin", O_WRONLY | O_CREAT | (i % 64 == 0 ? O_TRUNC : 0), 0644);
            if (fd < 0)
                _exit(1);
            lseek(fd, 0, SEEK_END);
            if (write(fd, block, sizeof block) < 0 || fsync(fd) != 0)
                _exit(1);
            close(fd);
        }
    }
}

static const char *state_json(char *buf, size_t size, const char *node)
{
    snprintf(buf, size, "{\"placeholder\":true,\"node\":\"%s\",\"online\":true,\"cpu\":%s,\"disk\":%s}", node,
             cpu_pid > 0 ? "true" : "false", disk_pid > 0 ? "true" : "false");
    return buf;
}

/* Handles one PUBLISH body (QoS0 expected). Returns 1 when the state changed. */
static int on_publish(const unsigned char *body, size_t len)
{
    if (len < 2)
        return 0;
    size_t tl = ((size_t)body[0] << 8) | body[1];
    if (tl + 2 > len)
        return 0;
    char payload[512];
    size_t pl = len - 2 - tl;
    if (pl >= sizeof payload)
        pl = sizeof payload - 1;
    memcpy(payload, body + 2 + tl, pl);
    payload[pl] = '\0';
    if (strstr(payload, "stop")) {
        stop_child(&cpu_pid);
        stop_child(&disk_pid);
        return 1;
    }
    int changed = 0;
    if (strstr(payload, "cpu")) {
        start_cpu();
        changed = 1;
    }
    if (strstr(payload, "disk")) {
        start_disk();
        changed = 1;
    }
    return changed;
}

static int run_session(int fd, const char *node, const char *state_topic, const char *cmd_topic)
{
    char js[256];
    unsigned char b[BUF_BYTES];
    if (publish_retained(fd, state_topic, state_json(js, sizeof js, node)) != 0)
        return -1;
    size_t n = 0;
    b[n++] = 0;
    b[n++] = 1; /* packet id */
    n = put_str(b, n, cmd_topic, strlen(cmd_topic));
    b[n++] = 0; /* QoS0 */
    if (send_packet(fd, 0x82, b, n) != 0)
        return -1;
    printf("placeholder-load: connected, state on %s\n", state_topic);
    fflush(stdout);
    time_t last_ping = time(NULL);
    size_t have = 0;
    while (!stopping) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 1000);
        if (r < 0 && errno != EINTR)
            return -1;
        if (time(NULL) - last_ping >= KEEPALIVE_S / 2) {
            if (send_packet(fd, 0xc0, NULL, 0) != 0)
                return -1;
            last_ping = time(NULL);
        }
        if (r <= 0)
            continue;
        ssize_t got = read(fd, b + have, sizeof b - have);
        if (got <= 0)
            return -1;
        have += (size_t)got;
        for (;;) { /* consume whole packets */
            size_t len = 0, mul = 1, i = 1;
            int complete = 0;
            while (i < have && i < 5) {
                unsigned char d = b[i++];
                len += (size_t)(d & 0x7f) * mul;
                mul *= 128;
                if (!(d & 0x80)) {
                    complete = 1;
                    break;
                }
            }
            if (!complete) {
                if (i >= 5)
                    return -1; /* malformed length */
                break;
            }
            if (i + len > sizeof b)
                return -1; /* larger than we ever expect: drop the session */
            if (i + len > have)
                break;
            if ((b[0] & 0xf0) == 0x30 && on_publish(b + i, len))
                if (publish_retained(fd, state_topic, state_json(js, sizeof js, node)) != 0)
                    return -1;
            memmove(b, b + i + len, have - i - len);
            have -= i + len;
        }
    }
    publish_retained(fd, state_topic, "{\"placeholder\":true,\"online\":false}");
    send_packet(fd, 0xe0, NULL, 0); /* DISCONNECT */
    return 0;
}

int main(int argc, char **argv)
{
    const char *broker = NULL, *node = NULL, *prefix = "kvmgrid";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0)
            continue;
        if (i + 1 < argc && strcmp(argv[i], "--broker") == 0)
            broker = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--node") == 0)
            node = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--prefix") == 0)
            prefix = argv[++i];
        else {
            fprintf(stderr, "usage: %s --listen --broker tcp://IPV4:PORT --node NAME [--prefix P]\n", argv[0]);
            return 2;
        }
    }
    char ip[64];
    int port = 0;
    if (!broker || !node || sscanf(broker, "tcp://%63[0-9.]:%d", ip, &port) != 2 || port <= 0 || port > 65535) {
        fprintf(stderr, "placeholder-load: need --broker tcp://IPV4:PORT and --node NAME\n");
        return 2;
    }
    char state_topic[512], cmd_topic[512], client_id[300];
    snprintf(state_topic, sizeof state_topic, "%s/%s/load/state", prefix, node);
    snprintf(cmd_topic, sizeof cmd_topic, "%s/%s/load/cmd", prefix, node);
    snprintf(client_id, sizeof client_id, "kg-load-%.200s", node);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    while (!stopping) {
        int fd = mqtt_connect(ip, port, client_id, state_topic, "{\"placeholder\":true,\"online\":false}");
        if (fd < 0) {
            fprintf(stderr, "placeholder-load: cannot reach %s:%d, retrying\n", ip, port);
            sleep(1);
            continue;
        }
        int rc = run_session(fd, node, state_topic, cmd_topic);
        close(fd);
        if (rc == 0)
            break;
        sleep(1);
    }
    stop_child(&cpu_pid);
    stop_child(&disk_pid);
    return 0;
}
