"""Real-data loaders on small files made here: the NYC TLC loader (zone ids, clear errors on bad rows)
and the pyhailing reader (CSV + GeoJSON in pyhailing's layout, found via data_dir)."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import opsrl  # noqa: F401
from opsrl.core.errors import ParameterError
from opsrl.envs.ride_sharing import dynamics as K_
from opsrl.envs.ride_sharing.data import read_tlc_trips, read_zone_table

pd = pytest.importorskip("pandas")
ENV_ID = "opsrl/RideSharing-v0"


@pytest.fixture
def tlc(tmp_path):
    zones = pd.DataFrame({"LocationID": [4, 13, 24, 132], "lat": [40.72, 40.71, 40.80, 40.64],
                          "lon": [-73.98, -74.01, -73.96, -73.78],
                          "Borough": ["Manhattan", "Manhattan", "Manhattan", "Queens"]})
    zpath = tmp_path / "zones.csv"
    zones.to_csv(zpath, index=False)
    trips = pd.DataFrame({
        "VendorID": [1] * 6,
        "tpep_pickup_datetime": ["2024-07-17 19:00:05", "2024-07-17 19:10:00", "2024-07-17 19:29:59",
                                 "2024-07-17 19:31:00", "2024-07-17 18:59:00", "2024-07-17 19:05:00"],
        "PULocationID": [4, 13, 24, 4, 4, 132],  # the last one starts in Queens: filtered out
        "DOLocationID": [13, 24, 4, 13, 13, 4],
    })
    tpath = tmp_path / "yellow.csv"
    trips.to_csv(tpath, index=False)
    return zpath, tpath, trips


def test_tlc_window_zone_ids_and_env(tlc):
    zpath, tpath, _ = tlc
    ids, xy = read_zone_table(str(zpath))
    assert ids.tolist() == [4, 13, 24]  # Manhattan rows only, by LocationID
    trips = read_tlc_trips(str(tpath), ids, "2024-07-17", 19.0, 1800)
    np.testing.assert_allclose(trips[:, 0], [5.0, 600.0, 1799.0])
    assert trips[:, 1].tolist() == [0, 1, 2] and trips[:, 2].tolist() == [1, 2, 0]
    env = gym.make(ENV_ID, preset="tlc_ospo_train", tlc_file=str(tpath), tlc_zone_file=str(zpath),
                   fleet_size=3, sample_frac=1.0, max_orders=8)
    env.reset(seed=0)
    state = env.unwrapped.state
    assert state.n_orders[0] == 3
    np.testing.assert_array_equal(state.oi[0, :3, K_.ZO], [0, 1, 2])
    for _ in range(30):
        *_, term, _, info = env.step(np.zeros(env.action_space.shape, np.float32))
    assert term and info["metrics"]["generated"] == 3


def test_tlc_sample_frac_resamples_per_reset(tlc):
    zpath, tpath, _ = tlc
    env = gym.make(ENV_ID, preset="tlc_ospo_train", tlc_file=str(tpath), tlc_zone_file=str(zpath),
                   fleet_size=2, sample_frac=0.5, max_orders=8)
    env.reset(seed=0)
    assert env.unwrapped.state.n_orders[0] == 2  # ceil(0.5 · 3)


def test_tlc_bad_rows_and_files(tlc, tmp_path):
    zpath, tpath, trips = tlc
    ids, _ = read_zone_table(str(zpath))
    bad = trips.copy()
    bad.loc[2, "tpep_pickup_datetime"] = "not a time"
    bpath = tmp_path / "bad.csv"
    bad.to_csv(bpath, index=False)
    with pytest.raises(ValueError, match=r"unreadable tpep_pickup_datetime.*\[2\]"):
        read_tlc_trips(str(bpath), ids, "2024-07-17", 19.0, 1800)
    bad = trips.copy()
    bad["PULocationID"] = bad["PULocationID"].astype(object)
    bad.loc[1, "PULocationID"] = "x"
    bad.to_csv(bpath, index=False)
    with pytest.raises(ValueError, match="zone id"):
        read_tlc_trips(str(bpath), ids, "2024-07-17", 19.0, 1800)
    trips.drop(columns=["DOLocationID"]).to_csv(bpath, index=False)
    with pytest.raises(ParameterError, match="DOLocationID"):
        read_tlc_trips(str(bpath), ids, "2024-07-17", 19.0, 1800)
    with pytest.raises(ParameterError, match="no such file"):
        read_tlc_trips(str(tmp_path / "missing.parquet"), ids, "2024-07-17", 19.0, 1800)
    with pytest.raises(ParameterError, match="YYYY-MM-DD"):
        read_tlc_trips(str(tpath), ids, "17/07/2024", 19.0, 1800)
    pd.DataFrame({"LocationID": [1, 1], "lat": [40.7, 40.7], "lon": [-74, -74]}).to_csv(bpath, index=False)
    with pytest.raises(ParameterError, match="LocationID 1 appears more than once"):
        read_zone_table(str(bpath))
    pd.DataFrame({"LocationID": [1], "lat": [140.7], "lon": [-74]}).to_csv(bpath, index=False)
    with pytest.raises(ParameterError, match="row 2"):
        read_zone_table(str(bpath))


def square(x, y, s):
    return [[x, y], [x + s, y], [x + s, y + s], [x, y + s], [x, y]]


@pytest.fixture
def pyhailing_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("OPSRL_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "pyh"
    folder.mkdir()
    feats = [{"type": "Feature", "properties": {"zone_id": str(z), "zone_name": f"z{z}"},
              "geometry": {"type": "Polygon", "coordinates": [square(585.0 + i, 4510.0, 1.0)]}}
             for i, z in enumerate([12, 4, 7])]
    (folder / "taxizones.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    rows = ["dow,t_15min,puzone,dozone,n_trips"]
    for slot in range(96):
        rows.append(f"2,{slot},4,7,{10 + slot}")
        rows.append(f"2,{slot},12,4,5")
        rows.append(f"1,{slot},7,7,1000")  # another weekday: ignored for dow=2
    (folder / "trips.csv").write_text("\n".join(rows) + "\n")
    rows = ["puzone,dozone,min,speed_mean,speed_stddev"]
    for slot in range(96):
        for a in (4, 7, 12):
            for b in (4, 7, 12):
                rows.append(f"{a},{b},{15 * slot},{20.0 / 3600},{2.0 / 3600}")
    (folder / "speeds.csv").write_text("\n".join(rows) + "\n")
    (folder / "lots.csv").write_text("id,x,y,zone\n")
    return folder


def test_pyhailing_reader_and_env(pyhailing_dir):
    env = gym.make(ENV_ID, preset="pyhailing_mui_evening", data_dir=str(pyhailing_dir), fleet_size=5,
                   requests_per_day=2000.0)
    problem = env.unwrapped.problem
    assert problem.city.zone_ids.tolist() == [4, 7, 12]  # sorted LocationIDs, not file order
    np.testing.assert_allclose(problem.city.speed, 20.0)  # km/s → km/h
    np.testing.assert_allclose(problem.city.d_in, 2.0 / 3.0)  # unit squares
    # window share: slots 76–77 of the day; expected count = 2000 × share
    slot = np.arange(96)
    per_slot = (10 + slot) + 5
    share = per_slot[76:78].sum() / per_slot.sum()
    assert problem.demand.expected_orders == pytest.approx(2000 * share)
    env.reset(seed=0)
    st = env.unwrapped.state
    od = st.oi[0, : st.n_orders[0], :2]
    assert set(map(tuple, od.tolist())) <= {(0, 1), (2, 0)}  # 4→7 and 12→4 only
    # the parse is cached: a second instance reads the .npz
    gym.make(ENV_ID, preset="pyhailing_mui_evening", data_dir=str(pyhailing_dir), fleet_size=5)
    assert any(p.suffix == ".npz" for p in (pyhailing_dir.parent / "cache").iterdir())


def test_pyhailing_missing_files(tmp_path):
    with pytest.raises(ParameterError, match="missing"):
        gym.make(ENV_ID, preset="pyhailing_mui_evening", data_dir=str(tmp_path))
