#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Publishes a burst of retained MQTT messages as fast as one TCP connection allows.

Debian's python3 has no MQTT library, and mosquitto_pub sends one topic per
process, so this speaks the few MQTT 3.1.1 packets it needs over a plain socket
(stdlib only): CONNECT, N x PUBLISH (QoS 0, retain), then PINGREQ and wait for
PINGRESP — the broker handles one connection's packets in order, so the
PINGRESP means every PUBLISH before it has been stored — then DISCONNECT.

Topics follow kvmgrid's scheme: <prefix>/host-<h>/vm/vm-<v>, spread over
--hosts hosts, with a --size-byte JSON-looking payload (400 B by default, the
size of a real VM message). Prints "published N in S s (R msg/s)" to stderr.

Usage: mqtt_burst_pub.py --port P [--host 127.0.0.1] [--count 100000]
       [--hosts 100] [--size 400] [--prefix kvmgrid] [--username U --password W]
       [--empty]   (publish empty retained messages: deletes the same topics)
"""
import argparse
import socket
import struct
import sys
import time


def remaining_length(n):
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            return bytes(out)


def utf8_field(s):
    b = s.encode("utf-8")
    return struct.pack("!H", len(b)) + b


def packet(first_byte, body):
    return bytes([first_byte]) + remaining_length(len(body)) + body


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return buf


def read_packet(sock):
    head = recv_exact(sock, 1)[0]
    mult, length = 1, 0
    while True:
        b = recv_exact(sock, 1)[0]
        length += (b & 0x7F) * mult
        if not b & 0x80:
            break
        mult *= 128
    return head, recv_exact(sock, length) if length else b""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--size", type=int, default=400)
    ap.add_argument("--prefix", default="kvmgrid")
    ap.add_argument("--username")
    ap.add_argument("--password")
    ap.add_argument("--empty", action="store_true")
    a = ap.parse_args()
    if a.count < 1 or a.hosts < 1 or a.size < 0:
        ap.error("--count and --hosts must be >= 1, --size >= 0")

    sock = socket.create_connection((a.host, a.port), timeout=60)
    flags = 0x02  # clean session
    payload = utf8_field("kg-burst-%d" % int(time.time() * 1000))
    if a.username is not None:
        flags |= 0x80
        payload += utf8_field(a.username)
        if a.password is not None:
            flags |= 0x40
            payload += utf8_field(a.password)
    body = utf8_field("MQTT") + bytes([4, flags]) + struct.pack("!H", 60) + payload
    sock.sendall(packet(0x10, body))
    head, ack = read_packet(sock)
    if head >> 4 != 2 or len(ack) != 2 or ack[1] != 0:
        sys.exit("mqtt_burst_pub: CONNECT refused (CONNACK %r)" % (ack,))

    start = time.monotonic()
    batch = bytearray()
    per_host = (a.count + a.hosts - 1) // a.hosts
    for i in range(a.count):
        topic = "%s/host-%03d/vm/vm-%05d" % (a.prefix, i // per_host, i % per_host)
        if a.empty:
            data = b""
        else:
            data = ('{"v":1,"i":%d,"pad":"' % i).encode()
            data += b"x" * max(0, a.size - len(data) - 2) + b'"}'
        batch += packet(0x31, utf8_field(topic) + data)  # PUBLISH QoS 0 retain
        if len(batch) > 256 * 1024:
            sock.sendall(batch)
            batch = bytearray()
    sock.sendall(bytes(batch) + packet(0xC0, b""))  # PINGREQ
    while True:
        head, _ = read_packet(sock)
        if head >> 4 == 13:
            break
    secs = time.monotonic() - start
    sock.sendall(packet(0xE0, b""))  # DISCONNECT
    sock.close()
    print("published %d in %.2f s (%.0f msg/s)" % (a.count, secs, a.count / secs),
          file=sys.stderr)


if __name__ == "__main__":
    main()
