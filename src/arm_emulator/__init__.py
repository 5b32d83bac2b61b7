"""A local Azure Resource Manager + Entra ID emulator for tests (never imported by ``bosh_azure_cpi``).

Generic ARM resource store keyed by lower-cased resource id with small per-type rule modules
(:mod:`arm_emulator.types`), long-running operations, fault injection, a request log, traffic recording
for ``oav validate-traffic``, and a storage fault proxy for Azurite (:mod:`arm_emulator.storage_proxy`).
"""

from __future__ import annotations

from arm_emulator.auth import AppRegistration
from arm_emulator.faults import (
    FailOperation,
    FaultRule,
    Reset,
    Respond,
    SlowOperation,
    StuckOperation,
    capacity,
    server_error,
    throttle,
)
from arm_emulator.server import ArmEmulator, EmulatorOptions

__all__ = [
    "AppRegistration",
    "ArmEmulator",
    "EmulatorOptions",
    "FailOperation",
    "FaultRule",
    "Reset",
    "Respond",
    "SlowOperation",
    "StuckOperation",
    "capacity",
    "server_error",
    "throttle",
]
