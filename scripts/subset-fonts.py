#!/usr/bin/env python3
"""Cuts egui's two emoji fonts down to the symbols spherelab draws.

egui's `monochrome_emoji_fonts` feature embeds NotoEmoji-Regular (419 KB) and emoji-icon-font (324 KB) in every
build: 457 KB of the browser's 2.7 MB gzipped wasm, for the few dozen symbols the lab shows (▶ ⏸ ⟲ ✅ ⚠ 📋 …)
and egui's own widgets draw (⏷ ☀ 🌙 …). The app turns the feature off and installs these subsets instead, in
egui's fallback order and with egui's scale tweaks (crates/app/src/lib.rs, `install_fonts`), so every symbol is
drawn by the same font as before.

Which symbols: every character outside ASCII in the text the app can show — its sources, the engine's (its
messages reach the notices), the lessons and studies, and the sources of egui, egui_plot and eframe — that
neither egui's proportional text font (Ubuntu-Light) nor egui-icons has. Comments are scanned too: a symbol too
many costs a few hundred bytes, one too few a box on screen. The app's test
`every_character_the_app_writes_has_a_glyph` fails when a string or lesson gains a symbol no installed font has;
run this script then (it needs fontTools: `pip install fonttools`) and commit the two .ttf files it writes.

Usage: python3 scripts/subset-fonts.py
"""

import glob
import json
import os
import subprocess
import sys

from fontTools import subset
from fontTools.ttLib import TTFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ASSETS = os.path.join(ROOT, "crates", "app", "assets")
# (source in epaint_default_fonts, subset written to crates/app/assets): the order is egui's fallback order.
EMOJI_FONTS = [
    ("NotoEmoji-Regular.ttf", "NotoEmoji-subset.ttf"),
    ("emoji-icon-font.ttf", "emoji-icon-font-subset.ttf"),
]
# What comes before the emoji fonts in the proportional family (egui's monospace family puts Hack before these,
# so a symbol Hack has is drawn by Hack there either way; the proportional family never reaches Hack).
TEXT_FONTS = ["Ubuntu-Light.ttf", "egui-icons.ttf"]


def package_dirs(names):
    """The source folders of the named crates in the locked dependency graph (`cargo metadata`)."""
    meta = json.loads(
        subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--locked"], cwd=ROOT)
    )
    dirs = {}
    for p in meta["packages"]:
        if p["name"] in names:
            dirs[p["name"]] = os.path.dirname(p["manifest_path"])
    missing = set(names) - set(dirs)
    if missing:
        sys.exit(f"subset-fonts: cargo metadata has no {', '.join(sorted(missing))}")
    return dirs


def symbols(patterns):
    """Every character above ASCII in the files the glob patterns match."""
    found = set()
    for pattern in patterns:
        for path in glob.glob(pattern, recursive=True):
            with open(path, encoding="utf-8") as f:
                found.update(ord(c) for c in f.read() if ord(c) > 0x7F)
    return found


def cmap(path):
    return set(TTFont(path).getBestCmap())


def main():
    dirs = package_dirs(["epaint_default_fonts", "egui", "egui_plot", "eframe"])
    fonts = os.path.join(dirs["epaint_default_fonts"], "fonts")
    shown = symbols(
        [
            os.path.join(ROOT, "crates", "app", "src", "**", "*.rs"),
            os.path.join(ROOT, "crates", "core", "src", "**", "*.rs"),
            os.path.join(ROOT, "lessons", "*.toml"),
            os.path.join(ROOT, "studies", "*.toml"),
        ]
        + [os.path.join(dirs[c], "src", "**", "*.rs") for c in ("egui", "egui_plot", "eframe")]
    )
    need = shown - set().union(*(cmap(os.path.join(fonts, f)) for f in TEXT_FONTS))
    for source, target in EMOJI_FONTS:
        path = os.path.join(fonts, source)
        take = sorted(need & cmap(path))
        need -= set(take)
        options = subset.Options()
        options.hinting = True  # egui hints glyphs (TextOptions::font_hinting): keep them drawn as before
        options.name_IDs = ["*"]  # keep the copyright and licence names
        font = subset.load_font(path, options)
        sub = subset.Subsetter(options)
        sub.populate(unicodes=take)
        sub.subset(font)
        out = os.path.join(ASSETS, target)
        subset.save_font(font, out, options)
        print(f"{target}: {len(take)} symbols, {os.path.getsize(out)} bytes: {''.join(map(chr, take))}")
    print(f"left to the other fonts (DejaVu's math subset, or none): {''.join(map(chr, sorted(need)))}")


if __name__ == "__main__":
    main()
