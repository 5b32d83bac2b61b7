"""``make demo``: the CPI's main job against local Azure (Azurite + the ARM emulator), step by step.

Builds a small but real stemcell (a fixed VHD with an ext4 filesystem, packed like a BOSH Azure stemcell),
starts the local peers, then drives ``bin/cpi`` exactly as the BOSH Director does through
info → create_stemcell → create_vm → has_vm → set_vm_metadata → create_disk → attach_disk → detach_disk →
delete_disk → delete_vm → delete_stemcell, printing each request and result, and where the gallery image
version and the blob ended up.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench import fixtures
from tests import peers as harness

ROOT = Path(__file__).resolve().parent.parent
MIB = 1024 * 1024
NETWORKS = {
    "default": {
        "type": "manual",
        "ip": "10.0.0.10",
        "netmask": "255.255.255.0",
        "gateway": "10.0.0.1",
        "dns": ["168.63.129.16"],
        "default": ["dns", "gateway"],
        "cloud_properties": {"virtual_network_name": "boshnet", "subnet_name": "bosh"},
    }
}
ENV = {"bosh": {"group": "demo-director-demo-deployment-web", "groups": ["demo"], "tags": {"demo": "true"}}}


def show(step: str, request: list[Any], response: harness.CpiResponse, seconds: float) -> Any:
    arguments = json.dumps(request)
    print(f"\n== {step}  ({seconds:.1f}s)")
    print(f"   arguments: {arguments if len(arguments) < 300 else arguments[:297] + '...'}")
    if response.error is not None:
        print(f"   error:     {response.error['type']}: {response.error['message']}")
        return None
    print(f"   result:    {json.dumps(response.result)}")
    return response.result


def call(config: Path, workdir: Path, method: str, *arguments: Any) -> Any:
    started = time.monotonic()
    response = harness.run_cpi(config, method, list(arguments), workdir=workdir)
    result = show(method, list(arguments), response, time.monotonic() - started)
    if response.error is not None and response.error["type"] != "Bosh::Clouds::NotImplemented":
        print("\n--- CPI log of the failed call ---\n" + response.log[-3000:])
        raise SystemExit(1)
    return result


def describe_stemcell(peers: harness.Peers, cid: str) -> None:
    for version in peers.emulator.resources("Microsoft.Compute/galleries/images/versions"):
        tags = version.get("tags") or {}
        if cid in tags.get("stemcell_references", ""):
            profile = version["properties"]["publishingProfile"]
            regions = ", ".join(r["name"] for r in profile["targetRegions"])
            print(f"   gallery image version: {version['id']}")
            print(f"     replicas: {profile.get('replicaCount')} in {regions}; image_sha256={tags.get('image_sha256')}")
    blob = harness.blob_service(peers).get_blob_client("stemcell", f"{cid}.vhd")
    ranges = [r for r in blob.list_page_ranges() if not r.cleared]
    stored = sum(r.end - r.start + 1 for r in ranges)
    print(f"   page blob: {blob.url} ({blob.get_blob_properties().size} bytes, {stored} bytes of pages stored)")


def run(workdir: Path) -> None:
    print("Building a small stemcell (fixed VHD with an ext4 filesystem) ...")
    stemcell = fixtures.build_stemcell(ROOT / "bench" / "fixtures" / "demo", 64 * MIB)
    print(
        f"   {stemcell.tarball.name}: root.vhd {stemcell.vhd_size} bytes, image {stemcell.image_size} bytes, "
        f"{stemcell.nonzero_sector_bytes} bytes in non-zero sectors"
    )
    print("Starting Azurite and the ARM emulator ...")
    with harness.running_peers(workdir) as peers:
        config = harness.write_cpi_config(workdir / "cpi.json", harness.cpi_config(peers))
        print(f"   ARM emulator {peers.emulator.url}, Azurite {peers.blob_endpoint}; CPI config {config}")
        call(config, workdir, "info")
        cid = call(config, workdir, "create_stemcell", str(stemcell.image), stemcell.cloud_properties)
        describe_stemcell(peers, cid)
        agent_id = str(uuid.uuid4())
        vm = call(config, workdir, "create_vm", agent_id, cid, {"instance_type": "Standard_D2s_v5"}, NETWORKS, [], ENV)
        vm_cid = vm[0] if vm else None
        if vm_cid:
            call(config, workdir, "has_vm", vm_cid)
            call(config, workdir, "set_vm_metadata", vm_cid, {"deployment": "demo", "job": "web", "index": "0"})
            disk = call(config, workdir, "create_disk", 10240, {}, vm_cid)
            call(config, workdir, "attach_disk", vm_cid, disk)
            call(config, workdir, "get_disks", vm_cid)
            call(config, workdir, "detach_disk", vm_cid, disk)
            call(config, workdir, "delete_disk", disk)
            call(config, workdir, "delete_vm", vm_cid)
            call(config, workdir, "has_vm", vm_cid)
        call(config, workdir, "delete_stemcell", cid)
        left = peers.emulator.resources("Microsoft.Compute/galleries/images/versions")
        print(
            f"\nDone. Gallery image versions left: {len(left)}; stemcell blobs left: "
            f"{len(list(harness.blob_service(peers).get_container_client('stemcell').list_blobs()))}"
        )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bosh-azure-cpi-demo-") as tmp:
        run(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
