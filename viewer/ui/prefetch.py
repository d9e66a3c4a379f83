"""Decoded images kept ahead of the reader (issue 14, "Speed the reader feels").

After the current image is shown, the window decodes the next image in Next order in a
low-priority worker and keeps the result here, so Next shows it at once. Qt-free and small:

- at most ``capacity`` images are kept (a 3000 x 3000 image is ~18 MB as uint16 plus its
  display buffers), the oldest dropped first;
- an image is handed out once, and only if its file is unchanged since the decode started
  (same path, size and ``st_mtime_ns``); a changed, moved or unreadable file is read again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection
from pathlib import Path
from typing import Any

# (path, size in bytes, st_mtime_ns) taken before the decode: a change during it shows up too
Stamp = tuple[str, int, int]


def file_stamp(path: str) -> Stamp | None:
    """The file's identity for the cache, or None when it cannot be stat'ed."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (path, st.st_size, st.st_mtime_ns)


class PrefetchCache:
    """Decoded values by path, each with the stamp of the file it was decoded from."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[str, tuple[Stamp, Any]] = OrderedDict()

    def __contains__(self, path: object) -> bool:
        return path in self._items

    def __len__(self) -> int:
        return len(self._items)

    def put(self, stamp: Stamp, value: Any) -> None:
        path = stamp[0]
        self._items.pop(path, None)
        self._items[path] = (stamp, value)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def take(self, path: str) -> Any | None:
        """The value decoded from ``path`` if the file is unchanged (removed either way)."""
        item = self._items.pop(path, None)
        if item is None:
            return None
        stamp, value = item
        return value if file_stamp(path) == stamp else None

    def keep_only(self, paths: Collection[str]) -> None:
        for path in [p for p in self._items if p not in paths]:
            del self._items[path]

    def clear(self) -> None:
        self._items.clear()
