#!/usr/bin/python3
"""bench/service's libtorrent side: one session holding many torrents, as a service would.

  lt_service.py --torrents DIR --save-path DIR --port N --mode seed|check|resume [--resume-dir DIR]
  lt_service.py --magnet URI --save-path DIR --port N

Adds every .torrent of DIR (seed mode: data trusted; check: every piece hashed; resume: the
fast-resume files of --resume-dir, written by a first run with --write-resume), prints
"READY <seconds>" once every torrent is seeding, then idles until SIGTERM. With --magnet it
prints "METADATA <seconds>" once the metadata arrived. Loopback only: DHT, LSD, UPnP off.
"""
import argparse
import glob
import os
import signal
import sys
import threading
import time

import libtorrent as lt


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--torrents')
    p.add_argument('--magnet')
    p.add_argument('--save-path', required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--mode', default='seed')
    p.add_argument('--resume-dir')
    p.add_argument('--write-resume', action='store_true')
    a = p.parse_args()
    start = time.time()
    ses = lt.session({
        'listen_interfaces': '127.0.0.1:%d' % a.port, 'enable_dht': False, 'enable_lsd': False,
        'enable_upnp': False, 'enable_natpmp': False, 'enable_outgoing_utp': False,
        'alert_mask': lt.alert.category_t.status_notification | lt.alert.category_t.storage_notification,
        # A full check of many torrents: all of them at once, not one per auto-manage tick.
        'active_checking': 10000, 'active_seeds': 10000, 'active_limit': 10000,
    })
    if a.magnet:
        params = lt.parse_magnet_uri(a.magnet)
        params.save_path = a.save_path
        h = ses.add_torrent(params)
        while not h.status().has_metadata:
            time.sleep(0.005)
        print('METADATA %.3f' % (time.time() - start), flush=True)
        return
    handles = []
    for f in sorted(glob.glob(os.path.join(a.torrents, '*.torrent'))):
        ih = os.path.basename(f)[:-len('.torrent')]
        resume = os.path.join(a.resume_dir or '', ih + '.fastresume')
        if a.mode == 'resume' and os.path.exists(resume):
            with open(resume, 'rb') as r:
                params = lt.read_resume_data(r.read())
            params.ti = lt.torrent_info(f)
        else:
            params = lt.add_torrent_params()
            params.ti = lt.torrent_info(f)
            if a.mode == 'seed':
                params.flags |= lt.torrent_flags.seed_mode
        params.save_path = a.save_path
        handles.append(ses.add_torrent(params))
    while not all(h.status().is_seeding for h in handles):
        time.sleep(0.005)
    print('READY %.3f' % (time.time() - start), flush=True)
    if a.write_resume:
        for h in handles:
            h.save_resume_data()
        saved = 0
        while saved < len(handles):
            for alert in ses.pop_alerts():
                if isinstance(alert, lt.save_resume_data_alert):
                    ih = str(alert.handle.info_hash())
                    with open(os.path.join(a.resume_dir, ih + '.fastresume'), 'wb') as w:
                        w.write(lt.write_resume_data_buf(alert.params))
                    saved += 1
            time.sleep(0.01)
        print('SAVED', flush=True)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
        ses.pop_alerts()


if __name__ == '__main__':
    main()
