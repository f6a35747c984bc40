"""DRAM device tables of the ``dram`` family (spec ``dram.md`` §2.1, §3.1–§3.3).

Two devices, each with its timing (in tCK), currents and address map, pinned to the DRAMSys memspecs the
spec reproduces:

* ``DDR3-1600`` — ``MICRON_1Gb_DDR3-1600_8bit_G``, tCK = 1,250 ps, 8 banks, map ``rbc``
  (byte 0–2, column 3–12, bank 13–15, row 16–29).
* ``DDR4-2400`` — ``JEDEC_4Gb_DDR4-2400_8bit_A``, tCK = 833 ps (DRAMSys truncates 1/1.2 GHz, and the
  golden values need it), 4 bank groups × 4 banks, map DRAMSys ``brc`` (column 3–12, row 13–27, bank group
  28–29, bank 30–31). Caveat (spec §7.8): traces below 1 GiB use bank 0 of every group only (random: 4 of 16
  banks; stream: one bank). Other published DDR4-2400 sets differ (Ramulator 2: WL 12, tRTP 9; DRAMsim3:
  CL 17 and other currents); these are the DRAMSys JEDEC values.

Timings are packed into one int64 array (``timing_table``) indexed by the constants below, so the numba
kernel takes one argument for all of them.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from opsrl.core.errors import ParameterError

# indices into the timing table (all in tCK cycles except TCK_PS / PLAYER_PS)
(TCK_PS, RL, WL, TRCD, TRP, TRAS, TRC, TCCD_S, TCCD_L, TRRD_S, TRRD_L, TFAW, TWR, TRTP, TWTR_S, TWTR_L,
 TRFC, TREFI, RD2WR, BL2, N_BANKS, N_GROUPS, PLAYER_PS) = range(23)
TIMING_WIDTH = 23


@dataclasses.dataclass(frozen=True)
class Device:
    """One DRAM device type: timing in tCK, currents in mA, voltages in V, address-map bit lists."""

    name: str
    memspec: str
    tck_ps: int
    timing: dict[str, int]
    vdd: float
    vpp: float
    currents: dict[str, float]
    devices: int  # x8 devices per rank (64-bit bus)
    n_groups: int
    banks_per_group: int
    rows: int
    columns: int
    column_bits: tuple[int, ...]
    row_bits: tuple[int, ...]
    bank_bits: tuple[int, ...]
    group_bits: tuple[int, ...]
    address_map: str

    @property
    def n_banks(self) -> int:
        return self.n_groups * self.banks_per_group

    @property
    def tck_ns(self) -> float:
        return self.tck_ps / 1000.0

    def timing_table(self, player_ps: int = 1250) -> np.ndarray:
        t = self.timing
        out = np.zeros(TIMING_WIDTH, dtype=np.int64)
        out[TCK_PS] = self.tck_ps
        out[RL], out[WL] = t["RL"], t["WL"]
        out[TRCD], out[TRP], out[TRAS], out[TRC] = t["tRCD"], t["tRP"], t["tRAS"], t["tRC"]
        out[TCCD_S], out[TCCD_L] = t["tCCD_S"], t["tCCD_L"]
        out[TRRD_S], out[TRRD_L] = t["tRRD_S"], t["tRRD_L"]
        out[TFAW], out[TWR], out[TRTP] = t["tFAW"], t["tWR"], t["tRTP"]
        out[TWTR_S], out[TWTR_L] = t["tWTR_S"], t["tWTR_L"]
        out[TRFC], out[TREFI] = t["tRFC"], t["tREFI"]
        out[RD2WR] = t["RD2WR"]
        out[BL2] = 4  # BL8 on a DDR bus: 4 clock cycles per burst
        out[N_BANKS], out[N_GROUPS] = self.n_banks, self.n_groups
        out[PLAYER_PS] = player_ps
        return out

    # -- energy (spec §2.7, DRAMPower v4 / Micron TN-41-01 form) --------------------------------------
    def command_energies_pj(self) -> dict[str, float]:
        """Energy per command for the whole rank (pJ): act, pre, rd, wr, ref."""
        c, t, v, tck = self.currents, self.timing, self.vdd, self.tck_ns
        e_act = v * (c["IDD0"] - c["IDD3N"]) * t["tRAS"] * tck + self.vpp * c["IPP0"] * t["tRAS"] * tck
        e_pre = v * (c["IDD0"] - c["IDD2N"]) * (t["tRC"] - t["tRAS"]) * tck + self.vpp * c["IPP0"] * t["tRP"] * tck
        e_rd = v * (c["IDD4R"] - c["IDD3N"]) * 4 * tck
        e_wr = v * (c["IDD4W"] - c["IDD3N"]) * 4 * tck
        e_ref = v * (c["IDD5"] - c["IDD3N"]) * t["tRFC"] * tck
        d = self.devices
        return {"act": d * e_act, "pre": d * e_pre, "rd": d * e_rd, "wr": d * e_wr, "ref": d * e_ref}

    def background_mw(self) -> tuple[float, float]:
        """Rank background power (mW) with at least one bank open, and with all banks precharged."""
        return (self.devices * self.vdd * self.currents["IDD3N"],
                self.devices * self.vdd * self.currents["IDD2N"])

    def data_bus_bound_cycles(self, n_requests: int) -> int:
        """Makespan lower bound tRCD + RL + N·BL/2 (spec §5.2)."""
        return self.timing["tRCD"] + self.timing["RL"] + 4 * n_requests

    def describe(self) -> dict:
        return {"name": self.name, "memspec": self.memspec, "tck_ps": self.tck_ps, "timing_tck": dict(self.timing),
                "vdd": self.vdd, "vpp": self.vpp, "currents_ma": dict(self.currents),
                "banks": self.n_banks, "bank_groups": self.n_groups, "address_map": self.address_map}


def _bits(lo: int, hi: int) -> tuple[int, ...]:
    return tuple(range(lo, hi + 1))


DDR3_1600 = Device(
    name="DDR3-1600", memspec="MICRON_1Gb_DDR3-1600_8bit_G", tck_ps=1250,
    timing=dict(RL=10, WL=8, tRCD=10, tRP=10, tRAS=28, tRC=38, tCCD_S=4, tCCD_L=4, tRRD_S=5, tRRD_L=5,
                tFAW=24, tWR=12, tRTP=6, tWTR_S=6, tWTR_L=6, tRFC=88, tREFI=6240,
                RD2WR=10 + 4 + 2 - 8),  # RL + BL/2 + 2 − WL
    vdd=1.5, vpp=0.0,
    currents=dict(IDD0=70.0, IDD2N=45.0, IDD3N=45.0, IDD4R=140.0, IDD4W=145.0, IDD5=170.0, IPP0=0.0),
    devices=8, n_groups=1, banks_per_group=8, rows=16384, columns=1024,
    column_bits=_bits(3, 12), bank_bits=_bits(13, 15), row_bits=_bits(16, 29), group_bits=(),
    address_map="rbc",
)

DDR4_2400 = Device(
    name="DDR4-2400", memspec="JEDEC_4Gb_DDR4-2400_8bit_A", tck_ps=833,
    timing=dict(RL=16, WL=16, tRCD=16, tRP=16, tRAS=39, tRC=55, tCCD_S=4, tCCD_L=6, tRRD_S=4, tRRD_L=6,
                tFAW=26, tWR=18, tRTP=12, tWTR_S=3, tWTR_L=9, tRFC=312, tREFI=9360,
                RD2WR=16 + 4 + 1 - 16 + 1),  # RL + BL/2 + 1 − WL + tWPRE
    vdd=1.2, vpp=2.5,
    currents=dict(IDD0=60.75, IDD2N=38.25, IDD3N=44.0, IDD4R=184.5, IDD4W=168.75, IDD5=118.0, IPP0=4.05),
    devices=8, n_groups=4, banks_per_group=4, rows=32768, columns=1024,
    column_bits=_bits(3, 12), row_bits=_bits(13, 27), group_bits=_bits(28, 29), bank_bits=_bits(30, 31),
    address_map="brc",
)

DEVICES = {"DDR3-1600": DDR3_1600, "DDR4-2400": DDR4_2400}


def get_device(name: str) -> Device:
    if name not in DEVICES:
        raise ParameterError(f"memory={name!r} is invalid: must be one of {list(DEVICES)}")
    return DEVICES[name]


def _extract(addr: np.ndarray, bits: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(addr.shape, dtype=np.int64)
    for k, b in enumerate(bits):
        out |= ((addr >> b) & 1) << k
    return out


def decode(addr: np.ndarray, device: Device) -> dict[str, np.ndarray]:
    """Bank (global index = group·banks_per_group + bank), bank group, row and column of byte addresses.
    Address bits above the map are ignored (addresses wrap at the device capacity)."""
    addr = np.asarray(addr, dtype=np.int64)
    group = _extract(addr, device.group_bits) if device.group_bits else np.zeros(addr.shape, dtype=np.int64)
    bank = _extract(addr, device.bank_bits)
    return {"bank": group * device.banks_per_group + bank, "group": group,
            "row": _extract(addr, device.row_bits), "column": _extract(addr, device.column_bits)}
