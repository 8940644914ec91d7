"""The queue half of `AzureStorage`: Azure Queue Storage as the gateway's queues."""

from __future__ import annotations

import builtins
import contextlib
import dataclasses

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import (
    QueueClient,
    QueueServiceClient,
    TextBase64DecodePolicy,
    TextBase64EncodePolicy,
)

from shared.storage.azure_errors import mapped_errors
from shared.storage.gateway import Message


class AzureQueues:
    """Queues of one storage account; each queue is created on first use."""

    _queues: QueueServiceClient
    _queue_clients: dict[str, QueueClient]

    def _queue(self, queue: str) -> QueueClient:
        client = self._queue_clients.get(queue)
        if client is None:
            # Base64 text on the wire: the Azure Functions queue trigger decodes Base64 by default
            # (host.json `extensions.queues.messageEncoding`), so plain text would not reach it.
            client = self._queues.get_queue_client(
                queue,
                message_encode_policy=TextBase64EncodePolicy(),
                message_decode_policy=TextBase64DecodePolicy(),
            )
            with mapped_errors(f"queue {queue}"), contextlib.suppress(ResourceExistsError):
                client.create_queue()
            self._queue_clients[queue] = client
        return client

    def send(self, queue: str, content: str) -> None:
        """Put a message on a queue."""
        client = self._queue(queue)
        with mapped_errors(f"queue {queue}"):
            client.send_message(content)

    def receive(self, queue: str, *, visibility_seconds: int, limit: int = 1) -> builtins.list[Message]:
        """Take up to `limit` messages, invisible to others for `visibility_seconds`."""
        client = self._queue(queue)
        with mapped_errors(f"queue {queue}"):
            received = client.receive_messages(
                messages_per_page=min(limit, 32), max_messages=limit, visibility_timeout=visibility_seconds
            )
            return [
                Message(
                    id=m.id,
                    pop_receipt=m.pop_receipt or "",
                    content=str(m.content),
                    dequeue_count=m.dequeue_count or 0,
                    inserted=m.inserted_on,
                )
                for m in received
            ]

    def extend(self, queue: str, message: Message, *, visibility_seconds: int) -> Message:
        """Keep a message hidden longer (returns it with its new pop receipt)."""
        client = self._queue(queue)
        with mapped_errors(f"message {message.id} on queue {queue}"):
            # No content given: only the visibility changes, the text stays as sent.
            updated = client.update_message(
                message.id, pop_receipt=message.pop_receipt, visibility_timeout=visibility_seconds
            )
        return dataclasses.replace(message, pop_receipt=updated.pop_receipt or message.pop_receipt)

    def remove(self, queue: str, message: Message) -> None:
        """Delete a handled message."""
        client = self._queue(queue)
        with mapped_errors(f"message {message.id} on queue {queue}"):
            client.delete_message(message.id, pop_receipt=message.pop_receipt)

    def peek_count(self, queue: str) -> int:
        """Approximate number of messages on a queue."""
        client = self._queue(queue)
        with mapped_errors(f"queue {queue}"):
            return client.get_queue_properties().approximate_message_count or 0
