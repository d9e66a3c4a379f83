#!/usr/bin/env bash
# Smoke test of the frozen app: version, help, and the headless self-check (JSON, exit 0).
set -euo pipefail
app_dir=${1:-dist/bedside}
exe="$app_dir/bedside"
[ -x "$exe" ] || { echo "smoke test: $exe is missing; run 'make freeze' first" >&2; exit 1; }
export QT_QPA_PLATFORM=offscreen
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export BEDSIDE_DATA_DIR="$work/data"
# File > Print… (#14 item 7) needs QtPrintSupport and its Qt library in the frozen app
for lib in "$app_dir"/_internal/PySide6/QtPrintSupport.* "$app_dir"/_internal/PySide6/Qt/lib/libQt6PrintSupport.so*; do
  [ -e "$lib" ] || { echo "smoke test: $lib is missing (Qt print support)" >&2; exit 1; }
done
# PACS objects (#17): highdicom reads its IOD tables from data files at run time
[ -e "$app_dir/_internal/highdicom/_standard/sop_class_iod_map.json" ] || {
  echo "smoke test: highdicom's data files are missing (PACS SR/SC/GSPS cannot be built)" >&2; exit 1; }
"$exe" --version
"$exe" --help >/dev/null
"$exe" demo-data "$work/study" --count 2 --size 256 >/dev/null
"$exe" --demo dicom info "$work/study/SYN0000.dcm" >/dev/null
if ! "$exe" self-check --compact > "$work/selfcheck.json"; then
  cat "$work/selfcheck.json"
  echo "smoke test: self-check failed" >&2
  exit 1
fi
cat "$work/selfcheck.json"
echo "frozen app size: $(du -sh "$app_dir" | cut -f1)"
echo "smoke test: passed"
