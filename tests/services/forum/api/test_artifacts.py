"""Artifacts: content-addressed uploads (deduplicated, size-capped, checked), snapshots with a manifest,
downloads by hash, and attaching them to posts."""

import hashlib
import io
import tarfile

from services.forum import snapshot


def upload(forum, headers, data: bytes, **params):
    return forum.client.post("/v1/artifacts", params={"name": "a.bin", **params}, content=data, headers=headers)


def test_upload_dedupes_by_sha256_and_downloads_the_same_bytes(forum, alice, bob):
    alice_name, alice_h = alice
    _, bob_h = bob
    data = b"weights " * 1000 + forum.backend.encode()
    sha = hashlib.sha256(data).hexdigest()
    first = upload(forum, alice_h, data, name="weights.bin")
    assert first.status_code == 201
    assert first.json() | {"created_at": None} == {
        "sha256": sha,
        "name": "weights.bin",
        "size": len(data),
        "kind": "file",
        "uploaded_by": alice_name,
        "created_at": None,
        "manifest": None,
    }
    again = upload(forum, bob_h, data, name="copy.bin")
    assert again.status_code == 200 and again.json()["uploaded_by"] == alice_name  # one row, one file
    stored = list(forum.settings.artifacts_path.rglob(sha))
    assert len(stored) == 1 and stored[0].read_bytes() == data
    download = forum.client.get(f"/v1/artifacts/{sha}/content", headers=bob_h)
    assert download.status_code == 200 and download.content == data
    assert download.headers["x-content-sha256"] == sha


def test_bad_uploads_are_refused_and_store_nothing(forum, alice):
    _, headers = alice
    cap = forum.settings.max_artifact_bytes
    too_big = upload(forum, headers, b"x" * (cap + 1))
    assert too_big.status_code == 413 and "cap" in too_big.json()["detail"]
    data = b"honest bytes"
    lying = upload(forum, headers, data, sha256="0" * 64)
    assert lying.status_code == 422 and hashlib.sha256(data).hexdigest() in lying.json()["detail"]
    assert upload(forum, headers, b"").status_code == 422
    assert upload(forum, headers, b"x", name="../etc/passwd").status_code == 422
    for sha in (hashlib.sha256(b"x" * (cap + 1)).hexdigest(), hashlib.sha256(data).hexdigest()):
        assert forum.client.get(f"/v1/artifacts/{sha}", headers=headers).status_code == 404
        assert not list(forum.settings.artifacts_path.rglob(sha))
    assert list((forum.settings.artifacts_path / "tmp").iterdir()) == []
    assert forum.client.get(f"/v1/artifacts/{'f' * 64}/content", headers=headers).status_code == 404


def test_workspace_snapshot_round_trip_with_manifest(forum, alice, tmp_path):
    _, headers = alice
    workspace = tmp_path / "ws"
    (workspace / "src").mkdir(parents=True)
    (workspace / "src" / "method.py").write_text("def run(ctx):\n    return []\n")
    (workspace / "notes.md").write_text(f"# notes {forum.backend}\n")
    archive = tmp_path / "snap.tar.gz"
    manifest = snapshot.make(workspace, archive)
    response = upload(forum, headers, archive.read_bytes(), name="ws.tar.gz", kind="snapshot")
    assert response.status_code == 201
    meta = response.json()
    assert meta["kind"] == "snapshot" and meta["manifest"] == manifest
    assert {e["path"] for e in manifest} == {"src/method.py", "notes.md"}
    content = forum.client.get(f"/v1/artifacts/{meta['sha256']}/content", headers=headers).content
    (tmp_path / "down.tar.gz").write_bytes(content)
    snapshot.extract(tmp_path / "down.tar.gz", tmp_path / "out")
    assert (tmp_path / "out" / "src" / "method.py").read_text() == "def run(ctx):\n    return []\n"


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_bad_snapshot_is_refused(forum, alice):
    _, headers = alice
    evil = b"pwned"
    entry = f'[{{"path": "../evil", "size": 5, "sha256": "{hashlib.sha256(evil).hexdigest()}"}}]'.encode()
    cases = {
        "no manifest": _tar({"a.txt": b"a"}),
        "not gzip": b"plain text",
        "path escape": _tar({"MANIFEST.json": entry, "../evil": evil}),
        "unlisted file": _tar({"MANIFEST.json": b"[]", "a.txt": b"a"}),
        "wrong size": _tar(
            {"MANIFEST.json": f'[{{"path": "a", "size": 9, "sha256": "{"0" * 64}"}}]'.encode(), "a": b"a"}
        ),
    }
    for why, data in cases.items():
        response = upload(forum, headers, data, kind="snapshot")
        assert response.status_code == 422, why
        assert "not a workspace snapshot" in response.json()["detail"], why
        assert forum.client.get(f"/v1/artifacts/{hashlib.sha256(data).hexdigest()}", headers=headers).status_code == 404


def test_attach_and_detach_on_own_posts(forum, alice):
    _, headers = alice
    sha = upload(forum, headers, b"plot").json()["sha256"]
    post = forum.post(headers)["id"]
    attached = forum.client.post(f"/v1/posts/{post}/artifacts", json={"sha256": sha}, headers=headers)
    assert attached.status_code == 200
    assert [a["sha256"] for a in attached.json()["artifacts"]] == [sha]
    assert (
        forum.client.post(f"/v1/posts/{post}/artifacts", json={"sha256": sha}, headers=headers).json()["artifacts"]
        == attached.json()["artifacts"]
    )  # attaching twice is harmless
    unknown = forum.client.post(f"/v1/posts/{post}/artifacts", json={"sha256": "e" * 64}, headers=headers)
    assert unknown.status_code == 422
    assert forum.client.delete(f"/v1/posts/{post}/artifacts/{sha}", headers=headers).json()["artifacts"] == []
    assert forum.client.delete(f"/v1/posts/{post}/artifacts/{sha}", headers=headers).status_code == 404
    assert forum.client.get(f"/v1/artifacts/{sha}", headers=headers).status_code == 200  # still downloadable
