#!/usr/bin/python3
"""`mongosh --quiet --eval "db.adminCommand('ping').ok"` for the stand-in document store's
health check: sends {ping: 1} to 127.0.0.1:27017 (OP_MSG), prints the reply's `ok` and exits 0
when it is 1. Anything else it is asked is refused."""
import socket
import struct
import sys


def document(fields):
    body = b""
    for name, value in fields:
        key = name.encode() + b"\0"
        if isinstance(value, int):
            body += b"\x10" + key + struct.pack("<i", value)
        else:
            text = value.encode() + b"\0"
            body += b"\x02" + key + struct.pack("<i", len(text)) + text
    return struct.pack("<i", len(body) + 5) + body + b"\0"


def ok_of(reply):
    """The `ok` field (a double or an int) of a BSON document."""
    at = 4
    while at < len(reply) - 1:
        kind = reply[at]
        end = reply.index(b"\0", at + 1)
        name = reply[at + 1 : end].decode()
        at = end + 1
        sizes = {0x01: 8, 0x10: 4, 0x12: 8, 0x08: 1, 0x09: 8, 0x07: 12, 0x11: 8}
        if name == "ok":
            if kind == 0x01:
                return struct.unpack_from("<d", reply, at)[0]
            if kind == 0x10:
                return struct.unpack_from("<i", reply, at)[0]
        if kind in (0x02, 0x0D, 0x0E):
            at += 4 + struct.unpack_from("<i", reply, at)[0]
        elif kind in (0x03, 0x04):
            at += struct.unpack_from("<i", reply, at)[0]
        elif kind == 0x05:
            at += 5 + struct.unpack_from("<i", reply, at)[0]
        elif kind == 0x0A:
            pass
        elif kind in sizes:
            at += sizes[kind]
        else:
            return None
    return None


if "db.adminCommand('ping').ok" not in " ".join(sys.argv[1:]):
    sys.exit("this mongosh only answers --eval \"db.adminCommand('ping').ok\"")
message = struct.pack("<I", 0) + b"\0" + document([("ping", 1), ("$db", "admin")])
try:
    with socket.create_connection(("127.0.0.1", 27017), timeout=3) as connection:
        connection.sendall(struct.pack("<iiii", 16 + len(message), 1, 0, 2013) + message)
        head = b""
        while len(head) < 16:
            head += connection.recv(16 - len(head))
        length = struct.unpack_from("<i", head)[0]
        rest = b""
        while len(rest) < length - 16:
            rest += connection.recv(length - 16 - len(rest))
except OSError as error:
    sys.exit(f"no answer: {error}")
ok = ok_of(rest[5:])  # after the flag bits and the section kind
print(int(ok) if ok is not None else "?")
sys.exit(0 if ok == 1 else 1)
