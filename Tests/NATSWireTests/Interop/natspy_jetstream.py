"""The nats-py side of the JetStream interoperability test: reads what NATSWire wrote, then
writes for NATSWire to read. Prints one line per check; exits non-zero on any failure."""
import asyncio
import sys

import nats


async def main(url: str) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()

    # A key-value bucket NATSWire created and wrote.
    kv = await js.key_value("interop")
    entry = await kv.get("from.swift")
    print(f"kv from.swift={entry.value.decode()} revision={entry.revision}")
    await kv.put("from.python", b"hello swift")

    # A stream NATSWire published to: pull every message, acknowledge each.
    sub = await js.pull_subscribe("interop.>", durable="py", stream="INTEROP")
    msgs = await sub.fetch(3, timeout=5)
    for msg in msgs:
        await msg.ack_sync()
    print("stream " + ",".join(m.data.decode() for m in msgs))

    # An object NATSWire stored; and one for NATSWire to read.
    obj = await js.object_store("interop-files")
    result = await obj.get("from-swift.txt")
    print(f"object from-swift.txt={result.data.decode()} size={result.info.size}")
    await obj.put("from-python.txt", b"x" * 300000)

    # Published by nats-py for NATSWire's consumer.
    for text in ("py-1", "py-2"):
        ack = await js.publish("interop.py", text.encode(), headers={"Nats-Msg-Id": text})
        print(f"published {text} seq={ack.seq}")
    await nc.close()


asyncio.run(main(sys.argv[1]))
