#!/usr/bin/python3
"""A real libtorrent peer for ct's interop tests and benchmarks (Debian's python3-libtorrent).

  lt_peer.py seed  --torrent F --save-path DIR --port N [--rate BYTES_PER_S] [--seed-mode] [--accept-utp]
  lt_peer.py leech --torrent F --save-path DIR --port N --peer HOST:PORT[,HOST:PORT...] [--timeout S]
  lt_peer.py create --path P --out F [--piece-length N] [--pad]

Seeds print "LISTENING <port>" once ready and run until stdin closes or SIGTERM; a line
"connect HOST:PORT" on a seed's stdin makes it dial that address from then on. Leeches print
one "PROGRESS <fraction> <bytes/s>" line per second and "DONE <seconds>" at the end (exit 0),
or "TIMEOUT" (exit 3). Everything stays on loopback: DHT, LSD, UPnP and NAT-PMP are off.
"""
import argparse
import os
import signal
import sys
import threading
import time

import libtorrent as lt


def make_session(port, rate=None, accept_utp=False):
    settings = {
        'listen_interfaces': '127.0.0.1:%d' % port,
        'enable_dht': False,
        'enable_lsd': False,
        'enable_upnp': False,
        'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True,
        # Outgoing uTP to a TCP-only peer never falls back to TCP.
        'enable_outgoing_utp': False,
        # Incoming uTP only when asked: btfs (stock libtorrent settings) dials uTP first and never
        # falls back to TCP.
        'enable_incoming_utp': accept_utp,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
    }
    ses = lt.session(settings)
    if rate:
        # Loopback peers sit in libtorrent's "local" class, which skips rate limits unless a
        # peer-class filter moves them into the global class.
        f = lt.ip_filter()
        f.add_rule('0.0.0.0', '255.255.255.255', 1 << lt.session.global_peer_class_id)
        ses.set_peer_class_filter(f)
        ses.apply_settings({'upload_rate_limit': rate})
    return ses


def add(ses, torrent, save_path, seed_mode=False):
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent)
    params.save_path = save_path
    if seed_mode:
        params.flags |= lt.torrent_flags.seed_mode
    return ses.add_torrent(params)


def wait_for_stop(on_line=None):
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    def read_stdin():
        for line in sys.stdin:
            if on_line:
                on_line(line.strip())
        stop.set()
    threading.Thread(target=read_stdin, daemon=True).start()
    while not stop.wait(0.2):
        pass
    # Tearing a session down politely can take seconds; a test peer has nothing to save.
    sys.stdout.flush()
    os._exit(0)


def seed(a):
    ses = make_session(a.port, a.rate, a.accept_utp)
    h = add(ses, a.torrent, a.save_path, a.seed_mode)
    deadline = time.time() + 120
    while not h.status().is_seeding:
        if time.time() > deadline:
            print('ERROR not seeding: %s' % h.status().state, flush=True)
            sys.exit(2)
        time.sleep(0.05)
    print('LISTENING %d' % ses.listen_port(), flush=True)

    def dial(address):
        # Dial a client that cannot be given peers (btfs takes no peer list): keep trying until
        # it listens, and again whenever the connection drops.
        host, port = address.rsplit(':', 1)
        def loop():
            while True:
                if not h.status().num_peers:
                    h.connect_peer((host, int(port)))
                time.sleep(0.2)
        threading.Thread(target=loop, daemon=True).start()

    # A line "connect HOST:PORT" on stdin starts dialing that address then.
    wait_for_stop(lambda line: dial(line.split(' ', 1)[1]) if line.startswith('connect ') else None)


def leech(a):
    ses = make_session(a.port)
    h = add(ses, a.torrent, a.save_path)
    # One peer, or several separated by commas.
    peers = [(host.strip('[]'), int(port)) for host, port in (p.rsplit(':', 1) for p in a.peer.split(','))]
    start = time.time()
    for peer in peers:
        h.connect_peer(peer)
    last = 0
    while True:
        s = h.status()
        if s.is_seeding:
            print('DONE %.3f' % (time.time() - start), flush=True)
            return
        if time.time() - start > a.timeout:
            print('TIMEOUT', flush=True)
            sys.exit(3)
        if time.time() - last >= 1:
            last = time.time()
            print('PROGRESS %.4f %d' % (s.progress, s.download_rate), flush=True)
            if s.num_peers < len(peers):
                for peer in peers:
                    h.connect_peer(peer)
        time.sleep(0.02)


def create(a):
    fs = lt.file_storage()
    lt.add_files(fs, a.path)
    flags = lt.create_torrent.v1_only
    if a.pad:
        flags |= lt.create_torrent.canonical_files
    ct = lt.create_torrent(fs, a.piece_length, flags=flags)
    lt.set_piece_hashes(ct, os.path.dirname(os.path.abspath(a.path)))
    with open(a.out, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    print('CREATED', flush=True)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('seed')
    s.add_argument('--torrent', required=True)
    s.add_argument('--save-path', required=True)
    s.add_argument('--port', type=int, required=True)
    s.add_argument('--rate', type=int, default=0)
    s.add_argument('--seed-mode', action='store_true')
    s.add_argument('--accept-utp', action='store_true')
    l = sub.add_parser('leech')
    l.add_argument('--torrent', required=True)
    l.add_argument('--save-path', required=True)
    l.add_argument('--port', type=int, required=True)
    l.add_argument('--peer', required=True)
    l.add_argument('--timeout', type=float, default=120)
    c = sub.add_parser('create')
    c.add_argument('--path', required=True)
    c.add_argument('--out', required=True)
    c.add_argument('--piece-length', type=int, default=0)
    c.add_argument('--pad', action='store_true')
    a = p.parse_args()
    {'seed': seed, 'leech': leech, 'create': create}[a.cmd](a)


if __name__ == '__main__':
    main()
