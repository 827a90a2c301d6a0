#!/usr/bin/env python3
"""Writes the seed corpus of the `media` fuzz target (fuzz/corpus/media): small valid files of
every kind the upload probes read. Needs Pillow (`pip install pillow`); run from `fuzz/`."""
import io
import os
import struct
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "media")
os.makedirs(OUT, exist_ok=True)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def image(mode, size, fmt, color, **kw):
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, fmt, **kw)
    return buf.getvalue()


write("png-rgb", image("RGB", (7, 5), "PNG", (200, 10, 10)))
write("png-rgba", image("RGBA", (4, 9), "PNG", (0, 0, 255, 128)))
write("png-palette", image("P", (5, 5), "PNG", 3))
write("png-gray16", image("I;16", (3, 2), "PNG", 40000))
write("jpeg", image("RGB", (9, 4), "JPEG", (10, 200, 30), quality=70))
write("jpeg-gray-progressive", image("L", (16, 16), "JPEG", 90, progressive=True))
exif = Image.Exif()
exif[0x0112] = 6  # orientation: rotate 90° clockwise
write("jpeg-exif-rotated", image("RGB", (8, 3), "JPEG", (1, 2, 3), exif=exif.tobytes()))
frames = [Image.new("P", (4, 4), i) for i in range(3)]
buf = io.BytesIO()
frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
write("gif-animated", buf.getvalue())
write("webp-lossy", image("RGB", (6, 6), "WEBP", (255, 255, 255), quality=50))
write("webp-lossless", image("RGBA", (3, 5), "WEBP", (9, 9, 9, 9), lossless=True))
write("bmp", image("RGB", (2, 2), "BMP", (5, 5, 5)))


def wav(rate, samples):
    data = b"\x00\x00" * samples
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


write("wav", wav(8000, 800))


def ogg_crc(data):
    crc = 0
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def ogg_page(header_type, granule, seq, packets):
    lacing = b""
    for p in packets:
        n = len(p)
        lacing += b"\xff" * (n // 255) + bytes([n % 255])
    head = b"OggS" + struct.pack("<BBqIIIB", 0, header_type, granule, 1, seq, 0, len(lacing))
    page = head + lacing + b"".join(packets)
    crc = ogg_crc(page)
    return page[:22] + struct.pack("<I", crc) + page[26:]


def ogg_opus(frames, pre_skip):
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 1, pre_skip, 48000, 0, 0)
    tags = b"OpusTags" + struct.pack("<I", 6) + b"confab" + struct.pack("<I", 0)
    packets = [b"\xf8\xff\xfe"] * frames
    out = ogg_page(0x02, 0, 0, [head]) + ogg_page(0x00, 0, 1, [tags])
    return out + ogg_page(0x04, pre_skip + frames * 960, 2, packets)


write("ogg-opus", ogg_opus(5, 312))


def box(kind, body):
    return struct.pack(">I", len(body) + 8) + kind + body


def mp4(duration_ms, width, height):
    mvhd = bytearray(100)
    mvhd[12:16] = struct.pack(">I", 1000)
    mvhd[16:20] = struct.pack(">I", duration_ms)
    tkhd = bytearray(84)
    tkhd[3] = 3
    tkhd[76:80] = struct.pack(">I", width << 16)
    tkhd[80:84] = struct.pack(">I", height << 16)
    hdlr = bytes(8) + b"vide" + bytes(12) + b"VideoHandler\0"
    trak = box(b"tkhd", bytes(tkhd)) + box(b"mdia", box(b"hdlr", hdlr))
    moov = box(b"mvhd", bytes(mvhd)) + box(b"trak", trak)
    return box(b"ftyp", b"isom\0\0\x02\0isommp41") + box(b"moov", moov) + box(b"mdat", bytes(64))


write("mp4", mp4(2500, 640, 360))
# Version-1 mvhd and a 64-bit box size.
mvhd1 = bytearray(112)
mvhd1[0] = 1
mvhd1[20:24] = struct.pack(">I", 90000)
mvhd1[24:32] = struct.pack(">Q", 90000 * 3)
moov = box(b"mvhd", bytes(mvhd1))
write("mp4-largesize", box(b"ftyp", b"mp42\0\0\0\0mp42") + struct.pack(">I", 1) + b"moov"
      + struct.pack(">Q", len(moov) + 16) + moov[8:])
# One MPEG-1 Layer III frame header (128 kbit/s, 44.1 kHz) and its zeroed body, three times.
write("mp3", (b"\xff\xfb\x90\x00" + bytes(413)) * 3)
write("webm", bytes.fromhex("1a45dfa3") + b"\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm")
write("pdf", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
write("name-traversal", b"../../etc/passwd")
write("empty", b"")
