"""kombu's filesystem transport with atomic message files, the embedded default's queue.

kombu 5.7's producer creates ``<stamp>_<uuid>.<queue>.msg`` and then writes into it, while the consumer
moves and reads any ``*.msg`` it lists without taking the producer's lock: a consumer polling at the
wrong moment read an empty file and the Celery worker died on the ``JSONDecodeError``. Here a message is
written under a name the consumer ignores and renamed into place, so it appears whole or not at all.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    # kombu's own filesystem Channel renames the base class's ``message`` parameter: no name satisfies both.
    def _put(self, queue, payload, **kwargs):  # type: ignore[override]
        """Put ``payload`` on ``queue``: write a hidden temporary file, then rename it into the folder."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")
        try:
            with open(partial, "w", encoding="utf-8") as f:
                f.write(dumps(payload))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
