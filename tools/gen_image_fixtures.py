#!/usr/bin/python3
"""Writes the image-reader fixtures of test/test_image.c into test/fixtures/images/.

Each image NAME.EXT comes with NAME.EXT.raw: the pixels the library must return (rows top to
bottom, channels interleaved), and a line "NAME.EXT width height channels" in manifest.txt.
PNGs and BMPs are encoded here (not by Pillow) so that every color type, bit depth, interlace,
filter type (row y uses filter y % 5, or an adaptive choice), deflate block kind (stored,
fixed, dynamic) and BMP header variant is covered; the expected pixels come from the arrays
they were made from and are checked against Pillow's decoding of the file wherever Pillow
gives the same reduction (not for 16-bit gray, which Pillow clips instead of taking the high
byte). A few files are also written by Pillow itself, as another writer.

Run: /usr/bin/python3 tools/gen_image_fixtures.py   (Debian python3-pil)
"""
import os
import random
import struct
import sys
import zlib

from PIL import Image

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "images")
manifest = []


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp, mode):
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for y, row in enumerate(rows):
        ft = y % 5 if mode == "cycle" else mode
        f = bytearray()
        for i, x in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][ft]
            f.append((x - pred) & 255)
        out.append(ft)
        out += f
        prev = row
    return bytes(out)


def pack_row(samples, depth):
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out, acc, nbits = bytearray(), 0, 0
    for s in samples:
        acc = (acc << depth) | s
        nbits += depth
        if nbits == 8:
            out.append(acc)
            acc, nbits = 0, 0
    if nbits:
        out.append(acc << (8 - nbits))
    return bytes(out)


A7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
NCH = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


def encode_png(w, h, color, depth, px, interlace=0, filt="cycle", plte=None, trns=None,
               level=9, strategy=zlib.Z_DEFAULT_STRATEGY, idat_split=0, extra=()):
    """px[y][x] = tuple of raw samples at the file's depth."""
    nch = NCH[color]
    bpp = max(1, nch * depth // 8)
    raw = b""
    passes = A7 if interlace else [(0, 0, 1, 1)]
    for x0, y0, dx, dy in passes:
        xs, ys = range(x0, w, dx), range(y0, h, dy)
        if not xs or not ys:
            continue
        rows = [pack_row([s for x in xs for s in px[y][x]], depth) for y in ys]
        raw += filter_rows(rows, bpp, filt)
    co = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
    z = co.compress(raw) + co.flush()
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0,
                                                             interlace))
    for kind, data in extra:
        out += chunk(kind, data)
    if plte is not None:
        out += chunk(b"PLTE", b"".join(bytes(c) for c in plte))
    if trns is not None:
        out += chunk(b"tRNS", trns)
    if idat_split:
        for i in range(0, len(z), idat_split):
            out += chunk(b"IDAT", z[i:i + idat_split])
    else:
        out += chunk(b"IDAT", z)
    return out + chunk(b"IEND", b"")


def save(name, data, w, h, ch, expected, pil_mode=None, pil_check=True):
    path = os.path.join(OUT, name)
    with open(path, "wb") as f:
        f.write(data)
    exp = bytes(expected)
    assert len(exp) == w * h * ch, name
    with open(os.path.join(OUT, name + ".raw"), "wb") as f:
        f.write(exp)
    manifest.append("%s %d %d %d" % (name, w, h, ch))
    if pil_check:
        im = Image.open(path)
        mode = pil_mode or {1: "L", 3: "RGB", 4: "RGBA"}[ch]
        got = im.convert(mode).tobytes()
        if got != exp:
            sys.exit("%s: Pillow decodes different pixels" % name)


def png_cases(rng):
    w, h = 13, 11
    for color, depths in ((0, (1, 2, 4, 8, 16)), (2, (8, 16)), (3, (1, 2, 4, 8)), (4, (8, 16)),
                          (6, (8, 16))):
        for depth in depths:
            for interlace in (0, 1):
                nch = NCH[color]
                top = (1 << depth) - 1
                plte = None
                if color == 3:
                    n = min(1 << depth, 200)
                    plte = [(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                            for _ in range(n)]
                    top = n - 1
                px = [[tuple(rng.randint(0, top) for _ in range(nch)) for x in range(w)]
                      for y in range(h)]
                exp = bytearray()
                for row in px:
                    for s in row:
                        if color == 3:
                            exp += bytes(plte[s[0]])
                        elif color == 0:
                            exp.append(s[0] >> 8 if depth == 16 else s[0] * 255 // top)
                        elif color == 4:
                            g, a = (s[0] >> 8, s[1] >> 8) if depth == 16 else s
                            exp += bytes((g, g, g, a))
                        else:
                            exp += bytes(v >> 8 if depth == 16 else v for v in s)
                och = {0: 1, 2: 3, 3: 3, 4: 4, 6: 4}[color]
                name = "png_c%d_d%d%s.png" % (color, depth, "_i" if interlace else "")
                data = encode_png(w, h, color, depth, px, interlace, plte=plte)
                save(name, data, w, h, och, exp, pil_check=not (depth == 16 and color in (0, 4)))
    # tRNS on palette, gray and RGB -> RGBA
    plte = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(16)]
    alpha = bytes(rng.randrange(256) for _ in range(10))
    px = [[(rng.randrange(16),) for x in range(9)] for y in range(7)]
    exp = bytearray()
    for row in px:
        for (k,) in row:
            exp += bytes(plte[k]) + bytes((alpha[k] if k < 10 else 255,))
    save("png_plte_trns.png", encode_png(9, 7, 3, 4, px, plte=plte, trns=alpha), 9, 7, 4, exp)
    px = [[(rng.choice((5, 7, 200)),) for x in range(9)] for y in range(7)]
    exp = bytearray()
    for row in px:
        for (g,) in row:
            exp += bytes((g, g, g, 0 if g == 7 else 255))
    save("png_gray_trns.png", encode_png(9, 7, 0, 8, px, trns=struct.pack(">H", 7)), 9, 7, 4, exp)
    cols = [(1, 2, 3), (9, 9, 9), (250, 0, 4)]
    px = [[rng.choice(cols) for x in range(9)] for y in range(7)]
    exp = bytearray()
    for row in px:
        for c in row:
            exp += bytes(c) + bytes((0 if c == (9, 9, 9) else 255,))
    save("png_rgb_trns.png", encode_png(9, 7, 2, 8, px, trns=struct.pack(">HHH", 9, 9, 9)),
         9, 7, 4, exp)
    # deflate block kinds, IDAT split, ancillary chunks, adaptive filters, long matches
    grad = [[((x * 4) & 255, (y * 5) & 255, ((x + y) * 3) & 255) for x in range(40)]
            for y in range(30)]
    gexp = bytes(v for row in grad for p in row for v in p)
    save("png_stored.png", encode_png(40, 30, 2, 8, grad, level=0), 40, 30, 3, gexp)
    save("png_fixed.png", encode_png(40, 30, 2, 8, grad, strategy=zlib.Z_FIXED), 40, 30, 3, gexp)
    save("png_split_idat.png", encode_png(40, 30, 2, 8, grad, idat_split=37,
                                          extra=((b"gAMA", struct.pack(">I", 45455)),
                                                 (b"tEXt", b"Comment\0libigq fixture"))),
         40, 30, 3, gexp)
    for ft in range(5):
        save("png_filter%d.png" % ft, encode_png(40, 30, 2, 8, grad, filt=ft), 40, 30, 3, gexp)
    flat = [[(77, 77, 77) for x in range(300)] for y in range(4)]
    save("png_runs.png", encode_png(300, 4, 2, 8, flat, filt=0), 300, 4, 3, bytes([77]) * 3600)
    save("png_1x1_i.png", encode_png(1, 1, 6, 8, [[(1, 2, 3, 4)]], interlace=1), 1, 1, 4,
         bytes((1, 2, 3, 4)))
    # Pillow as the writer
    im = Image.frombytes("RGB", (40, 30), gexp)
    path = os.path.join(OUT, "pil_rgb.png")
    im.save(path, optimize=True)
    save("pil_rgb.png", open(path, "rb").read(), 40, 30, 3, gexp)


def bmp_file(w, h, bits, rows_bottom_up, hsize=40, comp=0, masks=None, palette=None,
             top_down=False):
    stride = (w * bits + 31) // 32 * 4
    body = b""
    order = rows_bottom_up[::-1] if top_down else rows_bottom_up
    for r in order:
        body += r + bytes(stride - len(r))
    extra = b""
    if masks is not None and hsize == 40:
        extra = b"".join(struct.pack("<I", m) for m in masks[:3])
    pal = b"" if palette is None else b"".join(bytes((b, g, r, 0)) for r, g, b in palette)
    info = struct.pack("<IiiHHIIiiII", hsize, w, -h if top_down else h, 1, bits, comp,
                       len(body), 2835, 2835, 0 if palette is None else len(palette), 0)
    if hsize > 40:
        m = list(masks or (0, 0, 0, 0)) + [0] * 4
        info += struct.pack("<IIII", *m[:4])
        info += bytes(hsize - len(info))
    off = 14 + len(info) + len(extra) + len(pal)
    return b"BM" + struct.pack("<IHHI", off + len(body), 0, 0, off) + info + extra + pal + body


def bmp_cases(rng):
    w, h = 7, 5
    px = [[(rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256))
           for x in range(w)] for y in range(h)]
    rgb = bytes(v for row in px for p in row for v in p[:3])
    rgba = bytes(v for row in px for p in row for v in p)
    bgr_rows = [b"".join(bytes((p[2], p[1], p[0])) for p in row) for row in reversed(px)]
    bgra_rows = [b"".join(bytes((p[2], p[1], p[0], p[3])) for p in row) for row in reversed(px)]
    save("bmp_24.bmp", bmp_file(w, h, 24, bgr_rows), w, h, 3, rgb)
    save("bmp_24_topdown.bmp", bmp_file(w, h, 24, bgr_rows, top_down=True), w, h, 3, rgb)
    save("bmp_24_v4.bmp", bmp_file(w, h, 24, bgr_rows, hsize=108), w, h, 3, rgb)
    save("bmp_32_bgrx.bmp", bmp_file(w, h, 32, bgra_rows), w, h, 3, rgb)
    save("bmp_32_fields.bmp", bmp_file(w, h, 32, bgra_rows, comp=3,
                                       masks=(0xff0000, 0xff00, 0xff)), w, h, 3, rgb)
    save("bmp_32_v5_alpha.bmp", bmp_file(w, h, 32, bgra_rows, hsize=124, comp=3,
                                         masks=(0xff0000, 0xff00, 0xff, 0xff000000),
                                         top_down=True), w, h, 4, rgba)
    pal = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(20)]
    idx = [[rng.randrange(20) for x in range(w)] for y in range(h)]
    save("bmp_8_pal.bmp", bmp_file(w, h, 8, [bytes(r) for r in reversed(idx)], palette=pal),
         w, h, 3, bytes(v for row in idx for k in row for v in pal[k]))
    gpal = [(i, i, i) for i in range(256)]
    save("bmp_8_gray.bmp", bmp_file(w, h, 8, [bytes(r) for r in reversed(idx)], palette=gpal),
         w, h, 1, bytes(k for row in idx for k in row))
    im = Image.frombytes("RGB", (w, h), rgb)
    path = os.path.join(OUT, "pil_rgb.bmp")
    im.save(path)
    save("pil_rgb.bmp", open(path, "rb").read(), w, h, 3, rgb)
    g = bytes(rng.randrange(256) for _ in range(w * h))
    Image.frombytes("L", (w, h), g).save(path.replace("rgb", "gray"))
    save("pil_gray.bmp", open(path.replace("rgb", "gray"), "rb").read(), w, h, 1, g)


def pnm_cases(rng):
    w, h = 6, 4
    rgb = bytes(rng.randrange(256) for _ in range(w * h * 3))
    gray = bytes(rng.randrange(256) for _ in range(w * h))
    save("ppm_p6.ppm", b"P6\n# a comment\n%d %d\n# another\n255\n" % (w, h) + rgb, w, h, 3, rgb)
    save("pgm_p5.pgm", b"P5 %d\t%d 255\r" % (w, h) + gray + b"trailing", w, h, 1, gray)
    for mode, data, ch in (("RGB", rgb, 3), ("L", gray, 1)):
        name = "pil_rgb.ppm" if ch == 3 else "pil_gray.pgm"
        path = os.path.join(OUT, name)
        Image.frombytes(mode, (w, h), data).save(path)
        save(name, open(path, "rb").read(), w, h, ch, data)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(11)
    png_cases(rng)
    bmp_cases(rng)
    pnm_cases(rng)
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(manifest) + "\n")
    print("%d images in %s" % (len(manifest), os.path.normpath(OUT)))


if __name__ == "__main__":
    main()
