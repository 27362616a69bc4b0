#!/usr/bin/python3
"""Browser test of the HTML report: renders a report with the real binary (`wattprint report --format html`),
opens it in Debian's headless chromium, and checks that the page drew its charts and logged no error.

  html_report_browser_test.py --wattprint BIN --report RUN.json --out DIR [--chromium /usr/bin/chromium]

1. Control pages prove the error detection works: a page that calls console.error("x") and a page that
   throws must each be reported as failing (else the test fails: the detection would be blind).
2. The report: a screenshot (1400×3000) that exists and is not blank (the PNG is decoded here: more than a
   handful of distinct colours, some of them the charts' colours), and a DOM dump after a check script, added
   at the end of a copy of the page, measured every chart: each <svg data-chart> has drawn marks with a
   non-empty bounding box (getBBox), so document.body.dataset.charts == "ok"; no console message and no error.

Exit status: 0 passed, 1 failed, 77 skipped (no chromium; a failure instead when WATTPRINT_REQUIRE_SIMULATORS=1).
The screenshot and the pages are kept in DIR (printed at the end) as the test's artifacts.
"""
import argparse
import operator
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

SKIP = 77

# Runs first in <head>: records console.error / console.warn calls, uncaught errors (also failed resource
# loads, captured) and unhandled rejections in window.__wattprintErrors.
RECORDER = """<script>
window.__wattprintErrors = [];
(function () {
  var record = function (what) { window.__wattprintErrors.push(String(what)); };
  ["error", "warn"].forEach(function (level) {
    var original = console[level];
    console[level] = function () {
      record("console." + level + ": " + Array.prototype.join.call(arguments, " "));
      return original.apply(console, arguments);
    };
  });
  window.addEventListener("error", function (event) {
    record("error: " + (event.message || (event.target && event.target.outerHTML) || "unknown"));
  }, true);
  window.addEventListener("unhandledrejection", function (event) { record("rejection: " + event.reason); });
})();
</script>
"""

# Runs last in <body>: every chart must have drawn marks with a non-empty box; the verdict goes to the DOM.
CHECKER = """<script>
(function () {
  var problems = [];
  var charts = {"power": "polyline", "phase-kwh": "rect.bar", "phase-co2": "rect.bar", "components": "rect.bar"};
  Object.keys(charts).forEach(function (name) {
    var svg = document.querySelector('svg[data-chart="' + name + '"]');
    if (!svg) { problems.push(name + ": no svg"); return; }
    var box = svg.getBoundingClientRect();
    if (box.width < 200 || box.height < 100) problems.push(name + ": svg is " + box.width + "x" + box.height);
    var marks = svg.querySelectorAll(charts[name]);
    var drawn = 0;
    for (var i = 0; i < marks.length; ++i) {
      var b = marks[i].getBBox();
      if (b.width > 0 && (b.height > 0 || charts[name] === "polyline")) ++drawn;
    }
    if (drawn === 0) problems.push(name + ": nothing drawn (" + marks.length + " marks)");
    document.body.setAttribute("data-marks-" + name, String(drawn));
  });
  document.body.dataset.charts = problems.length ? problems.join("; ") : "ok";
  document.body.dataset.errors = window.__wattprintErrors ? window.__wattprintErrors.join(" | ") : "no recorder";
})();
</script>
"""

CONSOLE_LINE = re.compile(r":CONSOLE[:(]\d*\)?\]? ?(.*)")


def chromium_args(chromium, profile):
    return [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--user-data-dir=" + profile]


def run_chromium(chromium, profile, extra, url):
    result = subprocess.run(chromium_args(chromium, profile) + extra + [url], capture_output=True, text=True,
                            timeout=90)
    return result


def console_messages(stderr):
    return [m.group(1) for m in (CONSOLE_LINE.search(line) for line in stderr.splitlines()) if m]


def instrument(html):
    """The page with the recorder first in <head> and the checker last in <body>."""
    if "<head>" not in html or "</body>" not in html:
        raise ValueError("the page has no <head> or no </body>")
    return html.replace("<head>", "<head>\n" + RECORDER, 1).replace("</body>", CHECKER + "</body>", 1)


def check_page(chromium, profile, page):
    """Loads an instrumented page; returns (problems, dom)."""
    result = run_chromium(chromium, profile, ["--dump-dom"], "file://" + page)
    problems = []
    if result.returncode != 0:
        problems.append(f"chromium exited with {result.returncode}: {result.stderr[-2000:]}")
    dom = result.stdout
    errors = re.search(r'data-errors="([^"]*)"', dom)
    if errors is None:
        problems.append("the checker did not run (no data-errors in the DOM)")
    elif errors.group(1):
        problems.append("errors recorded in the page: " + errors.group(1))
    # Every console message is a problem: the report has no script of its own and the checker logs nothing.
    for message in console_messages(result.stderr):
        problems.append("console: " + message)
    return problems, dom


def png_colours(path):
    """Distinct RGB colours of an 8-bit RGB/RGBA PNG, decoded with zlib (every row unfiltered)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width, height, colour_type = 8, [], 0, 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour_type not in (2, 6) or interlace != 0:
                raise ValueError(f"unexpected PNG format (depth {depth}, colour type {colour_type})")
        elif kind == b"IDAT":
            idat.append(body)
    raw = zlib.decompress(b"".join(idat))
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    previous = bytearray(stride)
    colours = set()
    add = operator.add
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            line = bytearray(v & 0xFF for v in map(add, line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = previous[i]
                c = previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if row % 4 == 0:  # every fourth row is enough to count colours
            for i in range(0, stride, bpp * 2):
                colours.add(bytes(line[i:i + 3]))
        previous = line
    return width, height, colours


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--wattprint", required=True)
    parser.add_argument("--report", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    required = os.environ.get("WATTPRINT_REQUIRE_SIMULATORS") == "1"
    if not (os.path.isfile(args.chromium) and os.access(args.chromium, os.X_OK)):
        message = f"{args.chromium} not found (Debian package chromium)"
        if required:
            print("FAIL: " + message + " and WATTPRINT_REQUIRE_SIMULATORS=1")
            return 1
        print("SKIP: " + message)
        return SKIP
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    profile = tempfile.mkdtemp(prefix="wattprint-chromium-")
    failures = []
    try:
        # 1. The detection catches a console.error and a thrown exception, each on its own.
        controls = {
            "control-console-error.html": '<p>control</p><script>console.error("x");</script>',
            "control-exception.html": '<p>control</p><script>throw new Error("boom");</script>',
        }
        for name, body in controls.items():
            page = os.path.join(out, name)
            with open(page, "w", encoding="utf-8") as f:
                f.write(instrument(f"<!DOCTYPE html><html><head><title>c</title></head><body>{body}</body></html>"))
            problems, _ = check_page(args.chromium, profile, page)
            if not problems:
                failures.append(f"the error detection is blind: {name} was not reported as failing")
            else:
                print(f"control {name}: reported as failing, as it must ({problems[0]})")

        # 2. The report, rendered by the real binary.
        html_path = os.path.join(out, "report.html")
        rendered = subprocess.run([args.wattprint, "report", args.report, "--format", "html", "--output", html_path],
                                  capture_output=True, text=True, timeout=60)
        if rendered.returncode != 0:
            print(f"FAIL: wattprint report exited with {rendered.returncode}: {rendered.stderr}")
            return 1
        with open(html_path, encoding="utf-8") as f:
            html = f.read()
        checked = os.path.join(out, "report-checked.html")
        with open(checked, "w", encoding="utf-8") as f:
            f.write(instrument(html))
        problems, dom = check_page(args.chromium, profile, checked)
        failures += ["report: " + p for p in problems]
        charts = re.search(r'data-charts="([^"]*)"', dom)
        if charts is None or charts.group(1) != "ok":
            failures.append("charts: " + (charts.group(1) if charts else "the checker gave no verdict"))
        else:
            marks = dict(re.findall(r'data-marks-([a-z0-9-]+)="(\d+)"', dom))
            print("charts drawn:", ", ".join(f"{k} {v} marks" for k, v in sorted(marks.items())))

        # The page itself (not the instrumented copy) for the screenshot.
        shot = os.path.join(out, "report.png")
        if os.path.exists(shot):
            os.remove(shot)
        result = run_chromium(args.chromium, profile, ["--screenshot=" + shot, "--window-size=1400,3000"],
                              "file://" + html_path)
        failures += ["report (screenshot run): console: " + m for m in console_messages(result.stderr)]
        if not os.path.isfile(shot):
            failures.append(f"no screenshot written (chromium exited with {result.returncode})")
        else:
            width, height, colours = png_colours(shot)
            # The methods' colours (Okabe–Ito) must be on the page: the bars and swatches drew.
            method_colours = {bytes.fromhex(c) for c in ("E69F00", "56B4E9", "009E73", "0072B2", "CC79A7")}
            if (width, height) != (1400, 3000):
                failures.append(f"screenshot is {width}x{height}, not 1400x3000")
            if len(colours) < 16:
                failures.append(f"screenshot looks blank: {len(colours)} distinct colours")
            if len(method_colours & colours) < 3:
                failures.append(f"screenshot shows {len(method_colours & colours)} of the 5 method colours")
            print(f"screenshot: {shot} ({width}x{height}, {len(colours)} distinct colours, "
                  f"{len(method_colours & colours)} of the 5 method colours)")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(f"artifacts: {out}")
    for failure in failures:
        print("FAIL: " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
