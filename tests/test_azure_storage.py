"""`AzureStorage` against a real Azurite: blobs, conditional writes, streaming, upload URLs, queues."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import http.client
import json
import random
import threading
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from azure.storage.queue import QueueClient

from shared.errors import ConflictError, NotFoundError, StorageUnavailableError, TransientError
from shared.storage.azure import DOWNLOAD_CHUNK_SIZE, UPLOAD_BLOCK_SIZE, AzureStorage
from shared.storage.gateway import CREATE_ONLY
from tests.azurite import Azurite, free_port


@pytest.fixture
def container() -> str:
    """A container name no other test uses."""
    return f"t-{uuid.uuid4().hex[:16]}"


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    """Send one plain HTTP request, as a browser or curl would; returns the status code."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request(method, f"{parts.path}?{parts.query}", body=body, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class GeneratedStream:
    """A read-only stream of seeded pseudo-random bytes, made block by block as it is read."""

    def __init__(self, size: int, seed: int = 7) -> None:
        self.remaining = size
        self.random = random.Random(seed)
        self.sha256 = hashlib.sha256()
        self.largest_read = 0

    def read(self, size: int = -1, /) -> bytes:
        """Up to `size` more bytes; refuses to hand out the whole stream at once."""
        assert size > 0, "the stream was asked for everything at once"
        self.largest_read = max(self.largest_read, size)
        chunk = self.random.randbytes(min(size, self.remaining))
        self.remaining -= len(chunk)
        self.sha256.update(chunk)
        return chunk


def test_blob_round_trip_with_metadata(storage: AzureStorage, container: str) -> None:
    """Bytes, content type and metadata written come back from get, info and list; delete removes."""
    etag = storage.put_bytes(
        container, "s1/files/a.json", b'{"a": 1}', content_type="application/json", metadata={"kind": "file"}
    )
    storage.put_bytes(container, "s1/files/b.json", b"{}")
    storage.put_bytes(container, "s2/files/c.json", b"{}")

    data, read_etag = storage.get_bytes(container, "s1/files/a.json")
    assert (data, read_etag) == (b'{"a": 1}', etag)
    assert etag.startswith('"')

    info = storage.info(container, "s1/files/a.json")
    assert (info.name, info.size, info.etag, info.metadata) == ("s1/files/a.json", 8, etag, {"kind": "file"})
    assert abs(info.last_modified - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)

    listed = list(storage.list(container, prefix="s1/"))
    assert [b.name for b in listed] == ["s1/files/a.json", "s1/files/b.json"]
    assert listed[0] == info
    assert len(list(storage.list(container))) == 3

    assert storage.delete(container, "s1/files/a.json") is True
    assert storage.delete(container, "s1/files/a.json") is False
    assert [b.name for b in storage.list(container, prefix="s1/")] == ["s1/files/b.json"]


def test_second_writer_with_the_same_etag_conflicts(storage: AzureStorage, container: str) -> None:
    """Two writers read one ETag: the first write wins, the second raises ConflictError."""
    storage.put_bytes(container, "manifest.json", b"v1")
    _, etag_a = storage.get_bytes(container, "manifest.json")
    _, etag_b = storage.get_bytes(container, "manifest.json")
    assert etag_a == etag_b

    new_etag = storage.put_bytes(container, "manifest.json", b"v2 by a", if_match=etag_a)
    with pytest.raises(ConflictError):
        storage.put_bytes(container, "manifest.json", b"v2 by b", if_match=etag_b)
    assert storage.get_bytes(container, "manifest.json") == (b"v2 by a", new_etag)


def test_if_match_on_a_deleted_blob_conflicts(storage: AzureStorage, container: str) -> None:
    """A conditional write to a blob deleted since it was read is a ConflictError, not NotFoundError."""
    etag = storage.put_bytes(container, "gone.json", b"{}")
    storage.delete(container, "gone.json")
    with pytest.raises(ConflictError):
        storage.put_bytes(container, "gone.json", b"{}", if_match=etag)


def test_concurrent_read_modify_write_loses_no_update(storage: AzureStorage, container: str) -> None:
    """8 threads append 5 entries each to one JSON blob with ETag retries: all 40 entries survive."""
    writers, appends = 8, 5
    storage.put_bytes(container, "log.json", b"[]", if_match=CREATE_ONLY)
    # Every writer's first read happens before anyone's first write, so conflicts are certain.
    first_round = threading.Barrier(writers)
    conflicts = 0
    lock = threading.Lock()

    def writer(writer_id: int) -> None:
        nonlocal conflicts
        for n in range(appends):
            attempt = 0
            while True:
                data, etag = storage.get_bytes(container, "log.json")
                entries = json.loads(data)
                entries.append(f"{writer_id}:{n}")
                if n == 0 and attempt == 0:
                    first_round.wait(timeout=10)
                try:
                    storage.put_bytes(container, "log.json", json.dumps(entries).encode(), if_match=etag)
                    break
                except ConflictError:
                    attempt += 1
                    with lock:
                        conflicts += 1

    with ThreadPoolExecutor(max_workers=writers) as pool:
        for future in [pool.submit(writer, w) for w in range(writers)]:
            future.result()

    entries = json.loads(storage.get_bytes(container, "log.json")[0])
    assert sorted(entries) == sorted(f"{w}:{n}" for w in range(writers) for n in range(appends))
    assert conflicts >= writers - 1


def test_create_only_refuses_an_existing_blob(storage: AzureStorage, container: str) -> None:
    """CREATE_ONLY writes a new blob once; the second create raises ConflictError and changes nothing."""
    etag = storage.put_bytes(container, "session.json", b"first", if_match=CREATE_ONLY)
    with pytest.raises(ConflictError):
        storage.put_bytes(container, "session.json", b"second", if_match=CREATE_ONLY)
    assert storage.get_bytes(container, "session.json") == (b"first", etag)


def test_stream_upload_and_download_in_blocks(storage: AzureStorage, container: str, tmp_path: Path) -> None:
    """A 20 MB stream uploads block by block; download_to and open_read give back the same sha256."""
    size = 20 * 1024 * 1024 + 123
    stream = GeneratedStream(size)
    etag = storage.put_stream(container, "big.bin", stream, content_type="application/pdf")
    assert stream.remaining == 0
    assert stream.largest_read <= UPLOAD_BLOCK_SIZE
    info = storage.info(container, "big.bin")
    assert (info.size, info.etag) == (size, etag)

    target = tmp_path / "big.bin"
    assert storage.download_to(container, "big.bin", target) == size
    assert hashlib.sha256(target.read_bytes()).hexdigest() == stream.sha256.hexdigest()

    streamed, largest_chunk = hashlib.sha256(), 0
    for chunk in storage.open_read(container, "big.bin"):
        streamed.update(chunk)
        largest_chunk = max(largest_chunk, len(chunk))
    assert streamed.hexdigest() == stream.sha256.hexdigest()
    assert largest_chunk <= DOWNLOAD_CHUNK_SIZE

    copy_path = tmp_path / "again.bin"
    storage.put_file(container, "again.bin", target)
    assert storage.download_to(container, "again.bin", copy_path) == size


def test_copy_is_complete_on_return(storage: AzureStorage, container: str) -> None:
    """A server-side copy has the source's bytes and metadata as soon as copy() returns."""
    storage.put_bytes(container, "uploads/s1/a.pdf", b"%PDF-1.7 tiny", metadata={"owner": "ann"})
    storage.copy(container, "uploads/s1/a.pdf", f"{container}-archive", "s1/a.pdf")
    assert storage.get_bytes(f"{container}-archive", "s1/a.pdf")[0] == b"%PDF-1.7 tiny"
    assert storage.info(f"{container}-archive", "s1/a.pdf").metadata == {"owner": "ann"}


def test_upload_url_allows_one_put_and_nothing_else(storage: AzureStorage, container: str) -> None:
    """An upload URL creates its blob with a plain PUT, but cannot read it nor write another name."""
    url = storage.upload_url(container, "uploads/s1/statement.pdf", minutes=5)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert (query["sp"], query["sr"]) == (["cw"], ["b"])
    expiry = dt.datetime.fromisoformat(query["se"][0])
    assert dt.timedelta(minutes=4) < expiry - dt.datetime.now(dt.UTC) <= dt.timedelta(minutes=5)

    headers = {"x-ms-blob-type": "BlockBlob", "Content-Type": "application/pdf"}
    assert _http("PUT", url, b"%PDF-1.7 uploaded", headers) == 201
    assert storage.get_bytes(container, "uploads/s1/statement.pdf")[0] == b"%PDF-1.7 uploaded"

    assert _http("GET", url) == 403
    assert _http("DELETE", url) == 403
    other = url.replace("statement.pdf", "other.pdf")
    assert _http("PUT", other, b"%PDF-1.7 other", headers) == 403
    with pytest.raises(NotFoundError):
        storage.info(container, "uploads/s1/other.pdf")


def test_queue_send_receive_extend_remove(storage: AzureStorage, container: str) -> None:
    """A received message stays hidden while extended, and is gone once removed."""
    queue = f"q{container}"
    storage.send(queue, '{"session": "s1", "file": "a.pdf"}')
    assert storage.peek_count(queue) == 1

    [message] = storage.receive(queue, visibility_seconds=1, limit=5)
    assert (message.content, message.dequeue_count) == ('{"session": "s1", "file": "a.pdf"}', 1)
    extended = storage.extend(queue, message, visibility_seconds=30)
    assert (extended.id, extended.content) == (message.id, message.content)
    assert extended.pop_receipt != message.pop_receipt

    threading.Event().wait(1.5)  # past the first visibility timeout: only the extension hides it now
    assert storage.receive(queue, visibility_seconds=30) == []
    assert storage.peek_count(queue) == 1
    storage.remove(queue, extended)
    assert storage.peek_count(queue) == 0


def test_queue_messages_are_base64_on_the_wire(
    storage: AzureStorage, azurite: Azurite, container: str
) -> None:
    """Messages travel as Base64 text, the encoding the Functions queue trigger decodes by default."""
    queue = f"q{container}"
    text = '{"session": "s1", "file": "relevé.pdf"}'
    storage.send(queue, text)

    with QueueClient.from_connection_string(azurite.connection_string, queue) as raw:
        [peeked] = raw.peek_messages()
    assert peeked.content == base64.b64encode(text.encode()).decode()
    assert [m.content for m in storage.receive(queue, visibility_seconds=5)] == [text]


def test_missing_blobs_raise_not_found(storage: AzureStorage, container: str, tmp_path: Path) -> None:
    """Reading, describing, streaming or copying a blob that is not there raises NotFoundError."""
    with pytest.raises(NotFoundError):
        storage.get_bytes(container, "missing.json")
    with pytest.raises(NotFoundError):
        storage.info(container, "missing.json")
    with pytest.raises(NotFoundError):
        storage.download_to(container, "missing.json", tmp_path / "x")
    with pytest.raises(NotFoundError):
        storage.open_read(container, "missing.json")
    with pytest.raises(NotFoundError):
        storage.copy(container, "missing.json", container, "copy.json")


def test_unreachable_service_is_transient() -> None:
    """A closed port gives StorageUnavailableError (a TransientError) for blobs and queues alike."""
    port = free_port()
    connection_string = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
        f"QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    gateway = AzureStorage(connection_string, retry_total=0)
    try:
        with pytest.raises(StorageUnavailableError) as caught:
            gateway.get_bytes("anything", "a.json")
        assert isinstance(caught.value, TransientError)
        with pytest.raises(StorageUnavailableError):
            gateway.send("anything", "{}")
    finally:
        gateway.close()


def test_settings_choose_the_gateway() -> None:
    """A connection string wins; an account URL alone means the workload's identity; neither is an error."""
    from azure.identity import DefaultAzureCredential

    from shared.settings import Settings
    from shared.storage.azure import AzureStorage, storage_from_settings

    keyed = storage_from_settings(
        Settings(storage_connection="UseDevelopmentStorage=true", storage_account_name="other")
    ).inner
    assert isinstance(keyed, AzureStorage)
    assert keyed._blobs.account_name == "devstoreaccount1"
    keyless = storage_from_settings(
        Settings(azure_storage_account_url="https://acct.blob.core.windows.net")
    ).inner
    assert isinstance(keyless, AzureStorage)
    assert keyless._queues.url.startswith("https://acct.queue.core.windows.net")
    assert not getattr(keyless._blobs.credential, "account_key", None)
    assert isinstance(keyless._blobs.credential, DefaultAzureCredential)
    with pytest.raises(ValueError, match="AZURE_STORAGE_ACCOUNT_URL"):
        storage_from_settings(Settings())


# The Functions host's identity-based connection, as the Bicep sets it on the Function App.
HOST_IDENTITY = {
    "AzureWebJobsStorage__blobServiceUri": "https://ccprocdata.blob.core.windows.net",
    "AzureWebJobsStorage__queueServiceUri": "https://ccprocdata.queue.core.windows.net",
    "AzureWebJobsStorage__credential": "managedidentity",
    "AzureWebJobsStorage__clientId": "11111111-2222-3333-4444-555555555555",
}


def test_the_hosts_identity_settings_serve_the_product_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """With only the host's AzureWebJobsStorage__* settings in the environment, the gateway reaches
    the same endpoints as the user-assigned managed identity the host signs in as."""
    from azure.identity import ManagedIdentityCredential

    from shared.settings import Settings
    from shared.storage.access import storage_access
    from shared.storage.azure import AzureStorage, storage_from_settings

    for name, value in HOST_IDENTITY.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    access = storage_access(settings)
    assert access.credential == "managed-identity"
    assert access.client_id == HOST_IDENTITY["AzureWebJobsStorage__clientId"]
    gateway = storage_from_settings(settings).inner
    assert isinstance(gateway, AzureStorage)
    assert gateway._blobs.url.rstrip("/") == HOST_IDENTITY["AzureWebJobsStorage__blobServiceUri"]
    assert gateway._queues.url.rstrip("/") == HOST_IDENTITY["AzureWebJobsStorage__queueServiceUri"]
    assert gateway._blobs.account_name == "ccprocdata"  # upload URLs are signed for this account
    assert isinstance(gateway._blobs.credential, ManagedIdentityCredential)
    assert gateway._queues.credential is gateway._blobs.credential


def test_storage_access_reads_each_form_of_the_settings() -> None:
    """The account name alone gives both endpoints; the queue endpoint is taken as given, not derived;
    an identity without `__credential` is the default chain with the client id; an unknown credential
    or an endpoint whose queue endpoint cannot be told is refused, naming the setting to fix."""
    from shared.settings import Settings
    from shared.storage.access import storage_access

    by_name = storage_access(Settings(storage_account_name="acct2", storage_credential="ManagedIdentity"))
    assert (by_name.blob_url, by_name.queue_url) == (
        "https://acct2.blob.core.windows.net",
        "https://acct2.queue.core.windows.net",
    )
    assert (by_name.credential, by_name.client_id) == ("managed-identity", None)
    sovereign = storage_access(
        Settings(
            azure_storage_account_url="https://a.blob.core.chinacloudapi.cn/",
            storage_queue_url="https://a.queue.core.chinacloudapi.cn/",
            storage_client_id="c1",
        )
    )
    assert (sovereign.blob_url, sovereign.queue_url) == (
        "https://a.blob.core.chinacloudapi.cn",
        "https://a.queue.core.chinacloudapi.cn",
    )
    assert (sovereign.credential, sovereign.client_id) == ("default", "c1")
    with pytest.raises(ValueError, match="managedidentity"):
        storage_access(Settings(storage_account_name="a", storage_credential="clientsecret"))
    with pytest.raises(ValueError, match="__queueServiceUri"):
        storage_access(Settings(azure_storage_account_url="http://127.0.0.1:10000/devstoreaccount1"))


def test_a_connection_string_from_the_settings_reaches_azurite(azurite: Azurite) -> None:
    """The connection-string choice makes real calls: a blob written through the gateway the settings
    build is read back, and a message sent is received."""
    from shared.settings import Settings
    from shared.storage.azure import storage_from_settings

    gateway = storage_from_settings(Settings(storage_connection=azurite.connection_string))
    try:
        name = f"t-{uuid.uuid4().hex[:16]}"
        gateway.put_bytes(name, "a.json", b"{}")
        assert gateway.get_bytes(name, "a.json")[0] == b"{}"
    finally:
        gateway.close()


def test_upload_urls_are_https_only_where_storage_speaks_https() -> None:
    """Against a real account (https) the upload URL's SAS carries `spr=https`: the file can never be
    sent in the clear. Signed locally, with no request made."""
    import base64
    import urllib.parse

    key = base64.b64encode(b"k" * 64).decode()
    gateway = AzureStorage(
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
    )
    gateway._containers.add("uploads")  # known to exist: no call is made to create it
    url = gateway.upload_url("uploads", "s/f/receipts.pdf", minutes=5)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert url.startswith("https://acct.blob.core.windows.net/uploads/")
    assert query["spr"] == ["https"]
    assert query["sp"] == ["cw"]
