#!/usr/bin/env bash
# Build the container image where no container registry is reachable (CI machines without one):
# the base is made by debootstrap from the Debian mirror (Debian 12: python3 3.11, python3-venv), the
# Python dependencies come from this machine's pip configuration as a folder of wheels mounted into
# the build. Same Dockerfile, other BASE. Needs podman and debootstrap (Debian packages), and root.
#   packaging/container-offline.sh            -> localhost/vcore-app:latest
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_TAG=${BASE_TAG:-localhost/vcore-base:bookworm}
TAG=${TAG:-localhost/vcore-app:latest}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PYTHON=${PYTHON:-python3}
# ISOLATION=chroot where the OCI runtime cannot create cgroups (crun: "cgroups in hybrid mode not supported")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! podman image exists "$BASE_TAG"; then
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$work/rootfs" "$MIRROR"
    tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$BASE_TAG"
    rm -rf "$work/rootfs"
fi
"$PYTHON" -m pip download -q --dest "$work/wheels" . hatchling
rm -f "$work"/wheels/vcore_app-* "$work"/wheels/vcore-app-*
podman build --format docker ${ISOLATION:+--isolation "$ISOLATION"} --build-arg BASE="$BASE_TAG" --build-arg PIP_NO_INDEX=1 --build-arg PIP_FIND_LINKS=/wheelhouse \
    --volume "$work/wheels:/wheelhouse:ro" --tag "$TAG" .
