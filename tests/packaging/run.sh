#!/usr/bin/env bash
# Packaging test (run by .ci/run): the NuGet packages work in a new app outside this repository.
#
#  1. packs FastRcnn and FastRcnn.Cli into a temporary folder (the feed), under a version no cache can hold
#     (<VersionPrefix>-pkgtest.<time>), with bin/obj outside the repository's;
#  2. checks the library package: README (whose example equals the repository README's), XML docs,
#     buildTransitive targets, built-in weights, licence and repository metadata;
#  3. installs the tool from the feed (`dotnet tool install --tool-path --add-source`), runs `fastrcnn info`,
#     and makes a small model with it: `fastrcnn data shapes` (5 images), `fastrcnn train --iters 2` from the
#     built-in weights;
#  4. creates a console app (`dotnet new console`) in the temporary folder, adds FastRcnn from the feed only
#     (its nuget.config maps FastRcnn* to the feed, the rest to nuget.org), compiles the README's example as
#     its Program.cs and runs it on the model and a Shapes image: load + detect, on this machine's libstdc++
#     (Debian 12: through the package's TorchSharp fix);
#  5. checks that the package's build step and weights reach an app that has FastRcnn only through another
#     package.
# After packing, NuGet extracts into a global packages folder inside the temporary folder, with the machine's
# own folder as a read-only fallback (TorchSharp, SkiaSharp: nothing is downloaded again); with the unique
# version, no cache can serve a stale FastRcnn.
# Prints "packaging: passed ..." or "packaging: FAILED (...)"; exit status 0 or 1.
# KEEP_PACKAGING_DIR=1 keeps the temporary folder. About 3 minutes on 2 cores.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

step="setup"
failed=0
fail() { failed=1; echo "packaging: FAILED ($step): $*"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/fastrcnn-packaging.XXXXXX")
finish() {
  local rc=$?
  if [ "${KEEP_PACKAGING_DIR:-0}" = 1 ]; then echo "packaging: kept $work"; else rm -rf "$work"; fi
  if [ $rc -ne 0 ] && [ $failed -eq 0 ]; then echo "packaging: FAILED ($step, exit $rc)"; fi
}
trap finish EXIT
case "$work/" in "$repo"/*) fail "the temporary folder $work is inside the repository" ;; esac
feed="$work/feed" tools="$work/tools" app="$work/app"
mkdir -p "$feed"

# The machine's package folder: packing restores from it, and the apps use it as a read-only fallback.
global=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')
global=${global%/}
[ -d "$global" ] || fail "no global packages folder ($global); restore the solution first"

start=$SECONDS
suffix="pkgtest.$(date -u +%Y%m%d%H%M%S)"
prefix=$(sed -n 's:.*<VersionPrefix>\(.*\)</VersionPrefix>.*:\1:p' "$repo/Directory.Build.props")
[ -n "$prefix" ] || fail "no <VersionPrefix> in Directory.Build.props"
version="$prefix-$suffix"

step="pack"
for project in src/FastRcnn src/FastRcnn.Cli; do
  # The analyzers already ran in the CI build of the same sources; they do not change the output.
  dotnet pack "$repo/$project" -c Release -o "$feed" --version-suffix "$suffix" \
    --artifacts-path "$work/artifacts" -p:RunAnalyzers=false -nologo -v:q > "$work/pack.log" 2>&1 \
    || { cat "$work/pack.log"; fail "dotnet pack $project"; }
done
for p in "FastRcnn.$version" "FastRcnn.Cli.$version" "FastRcnn.Cli.linux-x64.$version"; do
  [ -f "$feed/$p.nupkg" ] || fail "no $p.nupkg in the feed: $(ls "$feed")"
done
rm -rf "$work/artifacts"   # the builds behind the packages: 2.5 GB, mostly every platform's libtorch
echo "packaging: packed in $((SECONDS - start)) s: $(cd "$feed" && for f in *.nupkg; do printf '%s %s; ' "$f" "$(numfmt --to=iec --suffix=B "$(stat -c %s "$f")")"; done)"

# From here on NuGet extracts into a folder of its own.
export NUGET_PACKAGES="$work/nuget-packages"
# The apps' nuget.config, copied into each app's folder (never above them, so it does not apply to the tool
# install): FastRcnn* from the feed only, everything else from nuget.org or the machine's folder.
cat > "$work/consumer.nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="fastrcnn-local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="fastrcnn-local">
      <package pattern="FastRcnn" /><package pattern="FastRcnn.*" /><package pattern="PackagingMiddle" />
    </packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
  <fallbackPackageFolders>
    <add key="machine" value="$global" />
  </fallbackPackageFolders>
</configuration>
EOF

step="package contents"
lib="$feed/FastRcnn.$version.nupkg"
listing=$(unzip -Z1 "$lib")
for f in README.md lib/net10.0/FastRcnn.dll lib/net10.0/FastRcnn.xml buildTransitive/FastRcnn.targets \
         buildTransitive/FastRcnn.TorchSharpNative.targets buildTransitive/WeakenElfVersionNeed.cs \
         weights/small-shapesnet.safetensors; do
  grep -qxF "$f" <<< "$listing" || fail "the FastRcnn package lacks $f"
done
nuspec=$(unzip -p "$lib" FastRcnn.nuspec)
for want in "<version>$version</version>" '<license type="expression">' '<repository type="git"' \
            '<readme>README.md</readme>' '<dependency id="TorchSharp-cpu"' '<dependency id="SkiaSharp"'; do
  grep -qF "$want" <<< "$nuspec" || fail "FastRcnn.nuspec lacks $want"
done
unzip -p "$feed/FastRcnn.Cli.linux-x64.$version.nupkg" FastRcnn.Cli.linux-x64.nuspec | grep -qF "<version>$version</version>" \
  || fail "the tool package does not have version $version"

# The README example: the same in the repository README and the package README; it becomes the app's Program.cs.
example() { awk '/<!-- fastrcnn-example:begin -->/ {on = 1; next} /<!-- fastrcnn-example:end -->/ {on = 0} on && !/^```/' "$1"; }
example "$repo/README.md" > "$work/example.cs"
[ -s "$work/example.cs" ] || fail "README.md has no example between <!-- fastrcnn-example:begin --> and <!-- fastrcnn-example:end -->"
unzip -p "$lib" README.md > "$work/package-readme.md"
example "$work/package-readme.md" | diff -u "$work/example.cs" - \
  || fail "the package README's example (src/FastRcnn/README.md) differs from README.md's"
lines=$(grep -cv '^[[:space:]]*$' "$work/example.cs")
[ "$lines" -le 12 ] || fail "the README example has $lines lines; it should be about ten"

step="tool"
(cd "$work" && dotnet tool install FastRcnn.Cli --version "$version" --tool-path "$tools" --add-source "$feed") \
  > "$work/tool.log" 2>&1 || { cat "$work/tool.log"; fail "dotnet tool install"; }
info=$(cd "$work" && "$tools/fastrcnn" info 2>&1) || { echo "$info"; fail "fastrcnn info"; }
echo "$info"
grep -Eq "^FastRcnn +$version(\+[0-9a-f]+)?\$" <<< "$info" || fail "fastrcnn info does not show version $version"
grep -Eq '^native check .*= 4$' <<< "$info" || fail "fastrcnn info: libtorch does not compute"
grep -Eq '^weights small-shapesnet +/.*small-shapesnet.safetensors$' <<< "$info" || fail "fastrcnn info: the tool lacks its built-in weights"
serve_help=$(cd "$work" && "$tools/fastrcnn" serve --help 2>&1) || { echo "$serve_help"; fail "fastrcnn serve --help"; }
grep -q -- '--workers' <<< "$serve_help" || fail "fastrcnn serve --help does not list --workers (the tool lacks FastRcnn.Serving?)"

step="model (fastrcnn data shapes, train)"
(cd "$work" && "$tools/fastrcnn" data shapes --out "$work/shapes" --train 4 --test 1 --seed 0 \
  && "$tools/fastrcnn" train --dataset "$work/shapes" --split train --proposals auto --cache-dir "$work/proposals" \
       --weights small-shapesnet --iters 2 --out "$work/model") > "$work/model.log" 2>&1 \
  || { cat "$work/model.log"; fail "could not make the model"; }
grep -q 'loaded [1-9][0-9]* tensors' "$work/model.log" || { cat "$work/model.log"; fail "train did not load the built-in weights"; }
image=$(ls "$work"/shapes/JPEGImages/test_*.jpg | head -n 1)

step="app"
mkdir -p "$app"
cp "$work/consumer.nuget.config" "$app/nuget.config"
(cd "$app" && dotnet new console --name PackagingCheck --output . \
  && dotnet add package FastRcnn --version "$version" \
  && cp "$work/example.cs" Program.cs \
  && dotnet build -c Release -nologo -v:q) > "$work/app.log" 2>&1 || { cat "$work/app.log"; fail "a new console app with the package"; }
grep -qF "\"FastRcnn/$version\"" "$app/obj/project.assets.json" || fail "the app did not restore FastRcnn $version"
out="$app/bin/Release/net10.0"
cmp -s "$out/weights/small-shapesnet.safetensors" "$repo/src/FastRcnn/Weights/small-shapesnet.safetensors" \
  || fail "the built-in weights are not next to the app ($out/weights)"
run=$(cd "$work" && dotnet "$out/PackagingCheck.dll" "$work/model" "$image" 2>&1) || { echo "$run"; fail "the example app failed"; }
echo "$run" | tail -n 4
tail -n 1 <<< "$run" | grep -Eq '^[0-9]+ objects from [1-9][0-9]* proposals in [0-9]+ ms$' || fail "unexpected output from the example app"

step="transitive"
# A library package that depends on FastRcnn, and an app that references only that library: FastRcnn's
# buildTransitive targets (the TorchSharp fix, the weights) must reach the app. Evaluation only, no build.
mkdir -p "$work/middle" "$work/app2"
cp "$work/consumer.nuget.config" "$work/middle/nuget.config"
cp "$work/consumer.nuget.config" "$work/app2/nuget.config"
(cd "$work/middle" && dotnet new classlib --name PackagingMiddle --output . \
  && dotnet add package FastRcnn --version "$version" \
  && dotnet pack -c Release -o "$feed" -p:Version=1.0.0 -nologo -v:q \
  && cd "$work/app2" && dotnet new console --name PackagingTransitive --output . \
  && dotnet add package PackagingMiddle --version 1.0.0) > "$work/transitive.log" 2>&1 \
  || { cat "$work/transitive.log"; fail "a library package on FastRcnn, and an app on it"; }
imported=$(cd "$work/app2" && dotnet msbuild -nologo -getProperty:FastRcnnTorchSharpNativeImported -getItem:None 2>&1) \
  || { echo "$imported"; fail "dotnet msbuild -getProperty"; }
grep -q '"FastRcnnTorchSharpNativeImported": "true"' <<< "$imported" \
  || { echo "$imported"; fail "the TorchSharp fix does not reach an app through another package"; }
grep -q 'small-shapesnet.safetensors' <<< "$imported" \
  || { echo "$imported"; fail "the built-in weights do not reach an app through another package"; }

step="done"
echo "packaging: passed in $((SECONDS - start)) s (FastRcnn $version: pack; tool install, info, data, train; new app with the README example: load + detect; transitive reference)"
