#!/usr/bin/python3
"""clang-tidy over the project's sources, skipping those already found clean in exactly the same state.

A source is skipped when its key is listed in the cache file (.ci/clang-tidy-clean.txt, committed): the
key is a SHA-256 over everything clang-tidy's verdict on that file depends on that the project controls:
  - the clang-tidy version and the .clang-tidy configuration,
  - the file's compile command from the compile database (paths of the checkout and the build directory
    replaced by placeholders, so a clean clone elsewhere gets the same key),
  - the file's text and the text of every project header it reaches through #include, transitively
    (resolved against the file's directory and the project's include directories; an include that could
    be a project file is followed whether or not a macro would have kept it out, so the closure is never
    smaller than the real one).
System headers (Debian's libstdc++, fmt, json, ...) are not in the key: they change only with the
distribution's packages. A changed source, a changed header it includes, a changed flag or .clang-tidy
makes the key new, and the file is checked again. The key of each file that passes replaces that file's
key in the cache file as soon as it passes; commit the file. `--all` ignores the cache (a full run).

Usage: clang-tidy-cached.py -p BUILD_DIR [--jobs N] [--cache FILE] [--all] [FILE ...]
  FILE defaults to every tracked src/**/*.cpp. Exit status 1 when clang-tidy finds anything.
"""
import argparse
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(rb'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)


def project_include_dirs(arguments):
    """The -I directories of a compile command that lie inside the checkout."""
    dirs = []
    for i, arg in enumerate(arguments):
        path = None
        if arg.startswith("-I") and len(arg) > 2:
            path = arg[2:]
        elif arg in ("-I", "-isystem", "-iquote") and i + 1 < len(arguments):
            path = arguments[i + 1]
        if path and os.path.abspath(path).startswith(ROOT + os.sep):
            dirs.append(os.path.abspath(path))
    return dirs


def include_closure(source, include_dirs, memo):
    """Every project file `source` reaches through #include (itself included), sorted."""
    seen = set()
    stack = [source]
    while stack:
        path = stack.pop()
        if path in seen:
            continue
        seen.add(path)
        if path not in memo:
            with open(path, "rb") as f:
                text = f.read()
            memo[path] = (text, [m.decode("utf-8", "replace") for m in INCLUDE.findall(text)])
        for name in memo[path][1]:
            for base in [os.path.dirname(path)] + include_dirs:
                candidate = os.path.normpath(os.path.join(base, name))
                if candidate.startswith(ROOT + os.sep) and os.path.isfile(candidate):
                    stack.append(candidate)
                    break
    return sorted(seen)


def normalised_command(entry, build_dir):
    """The compile command with checkout and build paths replaced, the compiler launcher and output left
    out."""
    arguments = entry.get("arguments") or shlex.split(entry["command"])
    words = []
    skip = False
    for i, arg in enumerate(arguments):
        if skip:
            skip = False
            continue
        if arg == "-o":
            skip = True
            continue
        if i == 0 and os.path.basename(arg) in ("ccache", "sccache"):
            continue
        words.append(arg.replace(build_dir, "@BUILD@").replace(ROOT, "@ROOT@"))
    return arguments, "\0".join(words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-p", dest="build_dir", required=True, help="directory with compile_commands.json")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--cache", default=os.path.join(ROOT, ".ci", "clang-tidy-clean.txt"))
    parser.add_argument("--all", action="store_true", help="check every file, ignoring the cache")
    parser.add_argument("files", nargs="*")
    options = parser.parse_args()

    build_dir = os.path.abspath(options.build_dir)
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        database = {os.path.abspath(e["file"]): e for e in json.load(f)}
    files = options.files
    if not files:
        listed = subprocess.run(["git", "-C", ROOT, "ls-files", "src/*.cpp"], check=True, capture_output=True,
                                text=True).stdout.split()
        files = [os.path.join(ROOT, name) for name in listed]
    files = [os.path.abspath(name) for name in files]

    version = subprocess.run(["clang-tidy", "--version"], check=True, capture_output=True).stdout
    with open(os.path.join(ROOT, ".clang-tidy"), "rb") as f:
        config = f.read()
    memo = {}
    keys = {}
    for path in files:
        entry = database.get(path)
        if entry is None:
            print(f"clang-tidy-cached: {os.path.relpath(path, ROOT)} is not in {build_dir}/compile_commands.json",
                  file=sys.stderr)
            return 2
        arguments, command = normalised_command(entry, build_dir)
        digest = hashlib.sha256()
        for part in (version, config, command.encode()):
            digest.update(part)
            digest.update(b"\0\0")
        for header in include_closure(path, project_include_dirs(arguments), memo):
            digest.update(os.path.relpath(header, ROOT).encode() + b"\0")
            digest.update(memo[header][0])
            digest.update(b"\0\0")
        keys[path] = digest.hexdigest()

    known = set()
    if not options.all and os.path.exists(options.cache):
        with open(options.cache) as f:
            known = {line.split()[0] for line in f if line.strip() and not line.startswith("#")}
    to_check = [path for path in files if keys[path] not in known]
    print(f"clang-tidy: {len(to_check)} of {len(files)} files to check "
          f"({len(files) - len(to_check)} unchanged since a clean check, {os.path.relpath(options.cache, ROOT)})",
          file=sys.stderr)

    def tidy(path):
        result = subprocess.run(["clang-tidy", "-p", build_dir, "--quiet", path], capture_output=True, text=True)
        noise = re.compile(r"^\d+ warnings? (and \d+ errors? )?generated\.?$|^Suppressed \d+ warnings|^Use -header-filter")
        output = "\n".join(line for line in (result.stdout + result.stderr).splitlines() if not noise.match(line))
        return path, result.returncode, output.strip()

    failed = []
    recorded = {}

    def record(path):
        """Adds the key of a file found clean to the cache file at once, so an interrupted run keeps what
        it checked. Only the newest key per file is kept."""
        recorded[os.path.relpath(path, ROOT)] = keys[path]
        lines = []
        if os.path.exists(options.cache):
            with open(options.cache) as f:
                lines = [line.rstrip("\n") for line in f if line.strip()]
        header = [line for line in lines if line.startswith("#")] or [
            "# Keys of sources clang-tidy found clean: tools/clang-tidy-cached.py (its key, and why). Commit it."]
        entries = {}
        for line in lines:
            if not line.startswith("#"):
                key, name = line.split(maxsplit=1)
                entries[name] = key
        entries.update(recorded)
        os.makedirs(os.path.dirname(options.cache), exist_ok=True)
        with open(options.cache + ".tmp", "w") as f:
            f.write("\n".join(header + [f"{entries[name]} {name}" for name in sorted(entries)]) + "\n")
        os.replace(options.cache + ".tmp", options.cache)

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        for path, status, output in pool.map(tidy, to_check):
            if status != 0:
                failed.append(path)
                print(output, file=sys.stderr)
            else:
                record(path)
    if failed:
        print(f"clang-tidy: problems in {len(failed)} file(s): "
              + ", ".join(os.path.relpath(p, ROOT) for p in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
