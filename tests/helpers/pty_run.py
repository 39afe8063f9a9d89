#!/usr/bin/python3
"""Runs a command under a real pseudo-terminal of a given size and prints everything it wrote.

  pty_run.py COLUMNS ROWS -- COMMAND [ARGS...]

Exits with the command's exit code. For the CLI tests: ct draws its progress bar only on a tty.
"""
import fcntl
import os
import pty
import struct
import sys
import termios

cols, rows = int(sys.argv[1]), int(sys.argv[2])
cmd = sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(cmd[0], cmd)
out = bytearray()
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.exit(os.waitstatus_to_exitcode(status))
