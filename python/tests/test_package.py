"""The wheel, the installed package, Ctrl-C and the GIL."""

import os
import sys
import threading
import time
import _thread
from pathlib import Path

import pytest

import geocells


def test_the_wheel_is_abi3_and_installed_from_it():
    wheels = list(Path(os.environ.get("GEOCELLS_WHEEL_DIR", "target/wheels")).glob("geocells-*.whl"))
    assert len(wheels) == 1, wheels
    assert "-abi3-" in wheels[0].name
    # The package imported is the installed wheel, not the source tree.
    assert "site-packages" in geocells.__file__
    assert Path(geocells._geocells.__file__).suffix in (".so", ".pyd")
    assert geocells.__version__ == "0.1.0"


def test_type_stubs_ship_with_the_package():
    here = Path(geocells.__file__).parent
    assert (here / "_geocells.pyi").exists() and (here / "py.typed").exists()


def test_ctrl_c_stops_a_run_at_once():
    # SIGINT's Python-level effect, raised in the main thread while the run is going.
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        geocells.build(progress=False)
    elapsed = time.monotonic() - started
    timer.cancel()
    # The default run takes longer than this; the interrupt is seen within ~0.1 s.
    assert elapsed < 3.0, elapsed


def test_the_gil_is_released_during_a_run():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.monotonic())
            time.sleep(0.01)

    t = threading.Thread(target=tick)
    t.start()
    try:
        geocells.build(progress=False, split=False)
    finally:
        stop.set()
        t.join()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    # A Python thread kept running all along: no pause of a second.
    assert len(ticks) > 50 and max(gaps) < 1.0, max(gaps)
