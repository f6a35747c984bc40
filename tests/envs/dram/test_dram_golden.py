"""Golden values of spec dram.md §5.2–§5.4 (DRAMSys, ArchGym build) and the qualitative DRAMSys findings."""

from __future__ import annotations

import numpy as np
import pytest

from opsrl.envs.dram import EXPERT_CONFIG, decode_config, simulate
from opsrl.envs.dram.devices import DDR3_1600, DDR4_2400
from opsrl.envs.dram.simulator import metrics_from_records

EXPERT = decode_config(EXPERT_CONFIG)


def expert(**changes):
    return {**EXPERT, **changes}


def test_power_model_unit():
    """79 ACT, 71 PRE, 10,000 RD, T = 50,025 ns on DDR3: E = 85,109,250 pJ, P = 1,701.33 mW (exact)."""
    rec = np.zeros((1, 15))
    rec[0, 0] = 50_025 / 1.25  # cycles
    rec[0, 1], rec[0, 2], rec[0, 3] = 79, 71, 10_000
    rec[0, 6] = rec[0, 0]  # always active (DDR3: active and precharged background are equal anyway)
    m = metrics_from_records(rec, DDR3_1600, 10_000)
    assert m["energy_uj"][0] * 1e6 == pytest.approx(85_109_250, abs=1e-3)
    assert m["avg_power_mw"][0] == pytest.approx(1_701.33, abs=0.005)


def test_ddr4_per_command_energies():
    e = DDR4_2400.command_energies_pj()
    assert e["act"] / 8 == pytest.approx(653.0 + 328.9, abs=0.1)
    assert e["pre"] / 8 == pytest.approx(359.9 + 134.9, abs=0.1)
    assert e["rd"] / 8 == pytest.approx(561.8, abs=0.1)
    assert e["wr"] / 8 == pytest.approx(498.8, abs=0.1)
    assert DDR4_2400.background_mw() == pytest.approx((422.4, 367.2))


@pytest.mark.parametrize("config", [
    {"page_policy": "Open", "request_buffer_size": 8},
    expert(),
    expert(page_policy="OpenAdaptive", request_buffer_size=128, resp_queue="Reorder"),
    expert(scheduler="Fifo", scheduler_buffer="Shared"),
    expert(scheduler_buffer="ReadWrite"),
    expert(arbiter="Fifo", max_active_transactions=128),
    expert(arbiter="Reorder", max_active_transactions=128, refresh_policy="NoRefresh"),
])
def test_ddr3_stream_exact(config):
    m = simulate("stream", config)
    assert m["total_time_ns"] == 50_025.0
    assert m["energy_uj"] == pytest.approx(85.10925, abs=1e-9)
    assert (m["n_act"], m["n_pre"], m["n_rd"], m["n_ref"]) == (79, 71, 10_000, 0)
    assert m["bandwidth_gbps"] == pytest.approx(102.35, abs=0.01)


def test_ddr3_stream_makespan_is_the_data_bus_bound():
    assert DDR3_1600.data_bus_bound_cycles(10_000) == 40_020


@pytest.mark.parametrize("config", [None, expert(request_buffer_size=8, max_active_transactions=128)])
def test_ddr4_stream(config):
    m = simulate("stream", config, memory="DDR4-2400")
    assert m["total_cycles"] == 62_994
    assert m["total_time_ns"] == pytest.approx(52_474.002, abs=1e-6)
    assert m["energy_uj"] == pytest.approx(68.007, rel=2e-3)  # DRAMSys output
    assert m["energy_uj"] == pytest.approx(67.979, abs=1e-3)  # the §2.7 model with 78·tRP precharged
    assert m["avg_power_mw"] == pytest.approx(1_295.45, rel=2e-3)
    assert m["precharged_time_ns"] == pytest.approx(78 * 16 * 0.833, abs=1e-6)
    assert (m["n_act"], m["n_pre"]) == (79, 78)


def test_ddr4_single_bank_bound():
    """§5.2: tRCD + (N−1−S)·tCCD_L + S·(tRTP + tRP + tRCD) + RL + BL/2 with S = 78."""
    t = DDR4_2400.timing
    bound = t["tRCD"] + (10_000 - 1 - 78) * t["tCCD_L"] + 78 * (t["tRTP"] + t["tRP"] + t["tRCD"]) + t["RL"] + 4
    assert bound == 62_994


def test_ddr3_random_large_buffer():
    m = simulate("random", {"page_policy": "Open", "scheduler": "FrFcfs", "scheduler_buffer": "Bankwise",
                            "request_buffer_size": 128, "refresh_policy": "NoRefresh", "arbiter": "Reorder",
                            "max_active_transactions": 128})
    assert m["total_time_ns"] == pytest.approx(75_382.5, rel=0.01)
    assert m["energy_uj"] == pytest.approx(240.07, rel=0.01)
    tfaw_bound = (24 * ((m["n_act"] - 1) // 4) + 5 * ((m["n_act"] - 1) % 4) + 10 + 10 + 4) * 1.25
    assert m["total_time_ns"] >= tfaw_bound


@pytest.mark.parametrize("rbs", [64, 128])
def test_ddr3_random_expert_large_buffer_is_tfaw_bound(rbs):
    m = simulate("random", expert(request_buffer_size=rbs))
    assert 75_200 * 0.99 <= m["total_time_ns"] <= 75_400 * 1.01
    assert m["total_time_ns"] >= 75_018.75 * (m["n_act"] - 1) / 9_999 - 1e-9


# -- qualitative findings (§5.3) --------------------------------------------------------------------------
def test_closed_page_is_about_9x_slower_on_stream():
    open_, closed = simulate("stream", expert()), simulate("stream", expert(page_policy="Closed"))
    assert closed["total_time_ns"] / open_["total_time_ns"] == pytest.approx(9.0, rel=0.05)  # DRAMSys 452.6/50.0
    assert closed["energy_uj"] / open_["energy_uj"] == pytest.approx(5.3, rel=0.05)
    for pp in ("OpenAdaptive", "ClosedAdaptive"):
        assert simulate("stream", expert(page_policy=pp))["total_time_ns"] == pytest.approx(
            open_["total_time_ns"], rel=0.011)


@pytest.mark.parametrize("trace", ["cloud1", "cloud2"])
def test_closed_page_on_cloud_is_several_times_slower(trace):
    ratio = simulate(trace, expert(page_policy="Closed"))["total_time_ns"] / simulate(trace, expert())["total_time_ns"]
    assert 3.0 <= ratio <= 4.5  # DRAMSys 3.9–4.0


def test_closed_page_is_not_slower_on_random():
    ratio = simulate("random", expert(page_policy="Closed"))["total_time_ns"] / simulate("random", expert())[
        "total_time_ns"]
    assert 0.97 <= ratio <= 1.0  # DRAMSys: about 1 % faster


def test_request_buffer_size_drives_random_time():
    small = simulate("random", expert(request_buffer_size=1))
    large = simulate("random", expert(request_buffer_size=128))
    assert small["total_time_ns"] == pytest.approx(289_800, rel=0.02)  # DRAMSys 289.8 → 75.2 µs
    assert large["total_time_ns"] == pytest.approx(75_200, rel=0.01)
    assert small["avg_power_mw"] == pytest.approx(1_246, rel=0.03)
    assert large["avg_power_mw"] == pytest.approx(3_185, rel=0.03)
    assert small["energy_uj"] == pytest.approx(360.9, rel=0.02)
    times = [simulate("random", expert(request_buffer_size=r))["total_time_ns"] for r in (1, 4, 16, 64)]
    assert times == sorted(times, reverse=True)
    stream_small = simulate("stream", expert(request_buffer_size=1))["total_time_ns"]
    assert 1.0 < stream_small / 50_025 < 1.06  # DRAMSys 51.6 vs 50.0 µs


def test_shared_buffer_caps_the_total_queue():
    base = simulate("random", expert())["total_time_ns"]
    shared = simulate("random", expert(scheduler_buffer="Shared"))["total_time_ns"]
    assert 1.05 <= shared / base <= 1.25  # DRAMSys +13 %
    assert simulate("stream", expert(scheduler_buffer="Shared"))["total_time_ns"] == 50_025.0


def test_refresh_changes_results_by_about_one_to_two_percent():
    for trace in ("stream", "random"):
        eight = simulate(trace, expert())
        one = simulate(trace, expert(refresh_max_postponed=1))
        off = simulate(trace, expert(refresh_policy="NoRefresh"))
        assert one["n_ref"] > 0
        assert 0.005 <= one["total_time_ns"] / eight["total_time_ns"] - 1 <= 0.025
        assert abs(off["total_time_ns"] / eight["total_time_ns"] - 1) <= 0.005
    assert simulate("stream", expert())["n_ref"] == 0  # MaxPostponed 8: every trigger before 7 tREFI postponed


def test_arbiter_mat_trend():
    mat1 = simulate("stream", expert(arbiter="Fifo", max_active_transactions=1))["total_time_ns"]
    mat8 = simulate("stream", expert(arbiter="Fifo", max_active_transactions=8))["total_time_ns"]
    assert mat1 == pytest.approx(179_000, rel=0.02)  # DRAMSys median 179 µs at MAT 1
    assert mat8 == pytest.approx(50_025, rel=0.01)
    r1 = simulate("random", expert(arbiter="Fifo", max_active_transactions=1))["total_time_ns"]
    assert r1 == pytest.approx(431_000, rel=0.02)


def test_ddr4_random_buffer_speedup():
    slow = simulate("random", None, memory="DDR4-2400")  # reference: Fifo scheduler, RBS 1, MAT 1
    fast = simulate("random", expert(), memory="DDR4-2400")  # FrFcfs, RBS 8
    assert slow["total_time_ns"] == pytest.approx(321_900, rel=0.02)  # DRAMSys 321.9 → 130.7 µs (2.5×)
    assert fast["total_time_ns"] == pytest.approx(130_700, rel=0.03)
    assert slow["total_time_ns"] / fast["total_time_ns"] == pytest.approx(2.5, rel=0.06)
