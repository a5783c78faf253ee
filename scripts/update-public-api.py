#!/usr/bin/env python3
"""Brings a package's PublicAPI.*.txt in line with its code (the analyzer's code fix cannot run here).

Usage: scripts/update-public-api.py src/NasFlatness.X [--ship]
Builds the package without warnings-as-errors, adds every symbol RS0016 reports to PublicAPI.Unshipped.txt and removes every
symbol RS0017 reports from both files; --ship then moves the unshipped lines into PublicAPI.Shipped.txt (a release).
A package without the files gets them (with '#nullable enable') first.
"""
import pathlib, re, subprocess, sys

project = pathlib.Path(sys.argv[1]).resolve()
shipped, unshipped = project / "PublicAPI.Shipped.txt", project / "PublicAPI.Unshipped.txt"
for f in (shipped, unshipped):
    if not f.exists():
        f.write_text("#nullable enable\n")
build = subprocess.run(["dotnet", "build", str(project), "-c", "Release", "--no-incremental", "-nologo", "-p:TreatWarningsAsErrors=false"],
                       capture_output=True, text=True)
here = re.escape(str(project)) + r"/[^/\]]+\.csproj\]"
added = set(re.findall(r"warning RS0016: Symbol '(.*)' is not part of the declared public API .*\[" + here, build.stdout))
removed = set(re.findall(r"warning RS0017: Symbol '(.*)' is part of the declared API, but .*\[" + here, build.stdout))


def lines(path):
    return [l for l in path.read_text().splitlines() if l and l != "#nullable enable"]


def write(path, items):
    path.write_text("#nullable enable\n" + "".join(l + "\n" for l in sorted(set(items), key=lambda s: s.encode())))


ship = [l for l in lines(shipped) if l not in removed]
new = [l for l in lines(unshipped) if l not in removed] + sorted(added)
if "--ship" in sys.argv:
    ship, new = ship + new, []
write(shipped, ship)
write(unshipped, new)
print(f"{project.name}: +{len(added)} −{len(removed)} symbols; shipped {len(set(ship))}, unshipped {len(set(new))}")
