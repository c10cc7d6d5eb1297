import gc
import threading

import pytest

from collector.report.gcpause import gc_paused


@pytest.fixture(autouse=True)
def _restore_gc():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_collection_resumes_when_the_last_of_nested_and_concurrent_reports_ends():
    gc.enable()
    inside, release = threading.Event(), threading.Event()

    @gc_paused()
    def other_report():
        inside.set()
        release.wait(10)

    worker = threading.Thread(target=other_report)
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer block still holds it
        worker.start()
        assert inside.wait(10)
    assert not gc.isenabled()  # the other thread's report is still running
    release.set()
    worker.join(10)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off_and_an_error_still_releases():
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()
    gc.enable()
    with pytest.raises(RuntimeError), gc_paused():
        raise RuntimeError("template error")
    assert gc.isenabled()
