"""The dashboard fed with synthetic events (fast: no torch, no process), and its numpy helpers."""

from __future__ import annotations

import numpy as np
import pytest
import training_events as te
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTabWidget

from designer.training.dashboard import TrainingDashboard, format_seconds
from designer.training.images import ema, filter_mosaic, grid_shape, map_mosaic, tile
from designer.training.series import Series
from engine.training.events import Paused


@pytest.fixture
def dashboard(qtbot) -> TrainingDashboard:
    widget = TrainingDashboard()
    qtbot.addWidget(widget)
    widget.resize(1200, 500)
    widget.show()
    widget.begin("test run")
    widget.apply([te.run_started()])
    return widget


def test_steps_extend_the_curves_with_one_point_per_loss(dashboard) -> None:
    raw = dashboard.curves.raw
    items_before = list(dashboard.curves.loss_plot.listDataItems())
    dashboard.apply([te.step(5), te.step(10)])
    x, y = raw.getData()
    assert list(x) == list(range(1, 11))
    assert np.allclose(y, 2.3 * np.exp(-0.05 * np.arange(1, 11)))
    smooth = dashboard.curves.smooth.getData()[1]
    assert len(smooth) == 10 and smooth[0] == pytest.approx(y[0]) and smooth[-1] > y[-1]
    assert dashboard.progress.value() == 250  # step 10 of 40
    assert "images/s" in dashboard.speed_label.text() and "left" in dashboard.eta.text()
    assert list(dashboard.curves.loss_plot.listDataItems()) == items_before  # no new items


def test_per_epoch_points_are_marked_and_the_legend_hides_a_series(dashboard, qtbot) -> None:
    dashboard.apply([te.step(20), te.epoch_end(1, 20), te.step(40), te.epoch_end(2, 40)])
    val_acc = dashboard.curves.val_acc
    assert list(val_acc.getData()[0]) == [1, 2]
    assert [spot.pos().x() for spot in val_acc.markers.points()] == [1, 2]
    plot = dashboard.curves.acc_plot
    names = {label.text: sample for sample, label in plot.legend.items}
    assert set(names) == {"training", "validation"}
    sample = names["validation"]
    view = dashboard.curves
    centre = view.mapFromScene(sample.mapToScene(sample.boundingRect().center()))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert not val_acc.line.isVisible() and not val_acc.markers.isVisible()
    assert dashboard.curves.train_acc.isVisible()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert val_acc.isVisible() and val_acc.markers.isVisible()


def click_tab(qtbot, dashboard: TrainingDashboard, page) -> None:
    """Click the tab of ``page`` as a person would."""
    bar = dashboard.pages.tabBar()
    rect = bar.tabRect(dashboard.pages.indexOf(page))
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=rect.center())
    assert dashboard.pages.currentWidget() is page


def test_the_training_process_hears_which_snapshot_parts_the_page_shows(dashboard, qtbot) -> None:
    told: list[dict] = []
    dashboard.view_changed.connect(told.append)
    dashboard.begin("next run")  # Curves in front: snapshots are not looked at
    assert told == [{"snapshot_parts": ()}]
    click_tab(qtbot, dashboard, dashboard.filters)
    click_tab(qtbot, dashboard, dashboard.gradients)
    click_tab(qtbot, dashboard, dashboard.evaluation)
    click_tab(qtbot, dashboard, dashboard.curves)  # nothing new to tell
    assert told[1:] == [
        {"snapshot_parts": ("filters",)},
        {"snapshot_parts": ("gradients",)},
        {"snapshot_parts": ()},
    ]
    click_tab(qtbot, dashboard, dashboard.feature_maps)
    dashboard.hide()  # as when another view covers it
    assert told[4:] == [{"snapshot_parts": ("feature_maps",)}, {"snapshot_parts": ()}]
    dashboard.show()
    assert told[6:] == [{"snapshot_parts": ("feature_maps",)}]


def test_epoch_end_draws_validation_and_evaluation(dashboard, qtbot) -> None:
    dashboard.apply([te.step(20), te.epoch_end(1, 20)])
    assert list(dashboard.curves.val_loss.getData()[0]) == [20]
    assert list(dashboard.curves.val_acc.getData()[1]) == pytest.approx([0.65])
    evaluation = dashboard.evaluation
    assert evaluation.confusion.image is None  # hidden pages wait until they are shown
    click_tab(qtbot, dashboard, evaluation)
    assert evaluation.confusion.image.shape == (10, 10)
    assert evaluation.counts.text(0, 0) == str(int(te.epoch_end(1, 20).confusion[0, 0]))
    assert evaluation.tiles[0].pixmap() is not None and not evaluation.tiles[0].pixmap().isNull()
    assert "/" in evaluation.captions[0].text()
    assert evaluation.captions[5].text() == ""  # only 5 misclassified images were sent
    heights = evaluation.per_class.opts["height"]
    assert len(heights) == 10 and 0 < min(heights) <= max(heights) <= 1


def test_only_the_newest_snapshot_of_a_tick_is_drawn(dashboard, qtbot) -> None:
    dashboard.apply([te.snapshot(5), te.snapshot(6, in_channels=3)])
    assert dashboard.filters.first.image is None  # the Curves page is in front
    click_tab(qtbot, dashboard, dashboard.filters)
    image = dashboard.filters.first.image
    assert image.ndim == 3 and image.shape[2] == 3  # the RGB filters of the second snapshot
    assert dashboard.filters.chosen.image is not None  # conv2 is picked by default
    dashboard.apply([te.snapshot(7)])  # the page in front follows new snapshots at once
    assert dashboard.filters.first.image.ndim == 2
    click_tab(qtbot, dashboard, dashboard.feature_maps)
    assert dashboard.feature_maps.maps.image is not None
    click_tab(qtbot, dashboard, dashboard.gradients)
    x, _y = dashboard.gradients.norms.getData()
    assert len(x) == 3
    assert dashboard.gradients.dead.opts["height"] == pytest.approx([0.1, 0.4])
    assert dashboard.gradients.hist.getData()[0] is not None


def test_pickers_ask_the_run_for_other_layers(dashboard, qtbot) -> None:
    changes: list[dict] = []
    dashboard.view_changed.connect(changes.append)
    dashboard.filters.picker.setCurrentText("conv1")
    dashboard.feature_maps.layer.setCurrentText("conv2")
    dashboard.feature_maps.sample.setValue(4)
    assert {"filter_layers": ("conv1", "conv1")} in changes
    assert {"feature_layer": "conv2"} in changes and {"feature_image": 4} in changes


def test_failure_and_finish_are_shown(dashboard) -> None:
    from engine.training.events import Failed

    dashboard.apply([Failed("loss became NaN at step 12 (learning rate 1e+06)", 12, "nan")])
    assert dashboard.state == "failed" and "NaN at step 12" in dashboard.message.text()
    dashboard.begin("again")
    assert not dashboard.message.isVisible() and dashboard.loss.size == 0
    dashboard.apply([te.run_started(), te.step(40), te.finished()])
    assert dashboard.state == "completed" and dashboard.progress.value() == 1000


def test_image_helpers() -> None:
    assert grid_shape(6) == (2, 3) and grid_shape(1) == (1, 1)
    mosaic = tile(np.zeros((4, 5, 5), dtype=np.float32))
    assert mosaic.shape == (2 * 6 + 1, 2 * 6 + 1)
    grey, caption = filter_mosaic(np.ones((6, 2, 3, 3)))
    assert grey.ndim == 2 and "mean over 2 input channels" in caption
    rgb, _ = filter_mosaic(np.full((4, 3, 3, 3), np.nan))
    assert rgb.ndim == 3 and np.isfinite(rgb).all()
    assert map_mosaic(np.arange(10.0)).shape == (6, 6)  # a flat vector as a 4×4 square
    assert ema(np.array([1.0, 3.0]), 0.5).tolist() == [1.0, 2.0]
    assert format_seconds(3725) == "1:02:05" and format_seconds(float("inf")) == "--:--"
    with pytest.raises(ValueError, match="out×in×kh×kw"):
        filter_mosaic(np.zeros((3, 3)))


def test_series_grows() -> None:
    s = Series(2)
    s.extend(np.arange(5.0), np.arange(5.0) * 2)
    s.append(5, 10)
    assert s.x.tolist() == [0, 1, 2, 3, 4, 5] and s.last == 10.0
    with pytest.raises(ValueError, match="2 x values but 1 y values"):
        s.extend([1, 2], [1])


def test_curves_redraw_at_most_five_times_a_second_but_at_once_on_pause(dashboard, qtbot) -> None:
    """Five times a second of the run's training time (its Steps' ``elapsed``; the CPU budget,
    which a loaded test machine stretches, is tested in test_draw_pacing)."""
    from dataclasses import replace

    from designer.training.dashboard import CURVE_INTERVAL
    from designer.training.pacing import DrawPacer

    dashboard.curve_pacer = DrawPacer(CURVE_INTERVAL, 1.0, clock=dashboard.run_clock)
    dashboard.apply([te.step(5), te.step(10)])  # drawn (at 0.1 s of training)
    dashboard.apply([te.step(15), te.step(20), te.epoch_end(1, 20)])  # at 0.2 s: waits
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 11))
    assert dashboard.curves.val_acc.getData()[1] is None
    qtbot.wait(250)  # wall time alone does not make a draw due: the run has not trained
    dashboard.apply([replace(te.step(22, count=2), elapsed=0.2)])
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 11))
    dashboard.apply([replace(te.step(25, count=3), elapsed=0.35)])  # 0.25 s of training later
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 26))
    assert list(dashboard.curves.val_acc.getData()[1]) == pytest.approx([0.65])
    dashboard.apply([te.step(30), Paused(30)])  # a pause shows the latest data at once
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 31))


def test_a_hidden_dashboard_draws_the_latest_data_when_its_tab_is_shown_again(qtbot) -> None:
    tabs = QTabWidget()  # the main window's bottom area: Layer summary, ..., Training
    qtbot.addWidget(tabs)
    tabs.resize(1200, 500)
    tabs.addTab(QLabel("layer summary"), "Layer summary")
    dashboard = TrainingDashboard()
    tabs.addTab(dashboard, "Training")
    tabs.show()
    _click(qtbot, tabs, dashboard)
    dashboard.begin("test run")
    dashboard.apply([te.run_started(), te.step(5)])
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 6))
    _click(qtbot, tabs, tabs.widget(0))  # the user looks at the layer summary while it trains
    qtbot.wait(250)
    dashboard.apply([te.step(10), te.step(15), te.snapshot(15)])
    dashboard.apply([te.step(20), te.epoch_end(1, 20), Paused(20)])  # a pause neither
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 6))
    assert dashboard.curves.val_acc.getData()[1] is None
    _click(qtbot, tabs, dashboard)
    assert list(dashboard.curves.raw.getData()[0]) == list(range(1, 21))
    assert list(dashboard.curves.val_acc.getData()[1]) == pytest.approx([0.65])
    assert dashboard.eta.text() == "paused at step 20"  # a paused run keeps its message
    click_tab(qtbot, dashboard, dashboard.filters)
    assert dashboard.filters.first.image is not None  # the snapshot that came while hidden


def _click(qtbot, tabs: QTabWidget, page) -> None:
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tabs.indexOf(page)).center())
    assert tabs.currentWidget() is page


def test_the_progress_bar_is_painted_with_the_curves_not_on_its_own(dashboard, qtbot) -> None:
    """QProgressBar repaints synchronously on a visible change; the dashboard defers that paint
    to the window's next paint pass, so each tick paints once (every pass costs the training
    process time on a small machine)."""
    from PySide6.QtCore import QEvent, QObject

    class PaintCounter(QObject):
        count = 0

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                self.count += 1
            return False

    counter = PaintCounter()
    dashboard.progress.installEventFilter(counter)
    qtbot.wait(250)  # past the 5 Hz pacing
    qtbot.waitUntil(lambda: dashboard.progress.isVisible())
    counter.count = 0
    dashboard.apply([te.step(5), te.step(20)])
    assert dashboard.progress.value() > 0
    assert counter.count == 0  # not painted inside apply()
    qtbot.waitUntil(lambda: counter.count >= 1, timeout=2000)  # but in the next pass


def test_confusion_counts_are_drawn_by_one_item_readable_on_every_cell(qtbot) -> None:
    """The counts are painted at the cells' centres (light on dark cells, dark on bright ones)
    by one item: a run's start and an epoch's end make no new graphics items."""
    widget = TrainingDashboard()
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()
    widget.begin("test run")
    evaluation = widget.evaluation
    widget.show_page(evaluation)
    items_before = len(evaluation.confusion_plot.vb.addedItems)
    widget.apply([te.run_started()])
    end = te.epoch_end(1, 20)
    widget.apply([end])
    assert len(evaluation.confusion_plot.vb.addedItems) == items_before
    assert evaluation.counts.text(3, 4) == str(int(end.confusion[3, 4]))
    assert evaluation.counts.text(10, 0) == ""  # outside the matrix
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: not widget.settler.settling)  # its charts paint once laid out
    dark = _dark_pixels(evaluation.view)
    evaluation.counts.set_values(None)
    evaluation.view.viewport().repaint()
    assert dark != _dark_pixels(evaluation.view)  # the numbers were painted


def _dark_pixels(view) -> int:
    """Near-black pixels of a grab of ``view``, sampled every second pixel."""
    image = view.grab().toImage()
    return sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixelColor(x, y).lightness() < 40
    )


def test_the_curves_keep_their_layout_while_values_change_their_labels(dashboard, qtbot) -> None:
    """The left axes have a fixed width that holds any tick label: labels growing from "2" to
    "1.2e+06" or "0.00120" never re-lay out the page (each re-layout repaints every plot)."""
    from PySide6.QtGui import QPainter, QPicture

    from engine.training.events import Step

    plots = (c := dashboard.curves).loss_plot, c.acc_plot, c.lr_plot, c.speed_plot
    qtbot.wait(250)
    dashboard.apply([te.step(5)])
    qtbot.wait(10)
    boxes = [plot.vb.sceneBoundingRect() for plot in plots]
    values = [  # loss, learning rate, images/s of each step: widely varied
        (4.1, 0.0012, 2.5e5),
        (0.0021, 2e-5, 1.2e6),
        (950.0, 0.3, 37.0),
    ]
    for n, (loss, lr, speed) in enumerate(values, start=6):
        qtbot.wait(210)  # past the 5 Hz pacing: each step is drawn
        dashboard.apply([Step(n, 1, (loss,), lr, speed, n / 40, 1.0, 1.0)])
        qtbot.wait(10)
        assert [plot.vb.sceneBoundingRect() for plot in plots] == boxes
        for plot in plots:
            axis = plot.getAxis("left")
            picture = QPicture()
            painter = QPainter(picture)
            _, _, drawn = axis.generateDrawSpecs(painter)  # the labels it draws (it leaves out
            painter.end()  # those without room)
            low, high = plot.viewRange()[1]
            spacing, major = axis.tickValues(low, high, axis.height())[0]
            wanted = axis.tickStrings(major, axis.scale, spacing)
            assert len(wanted) >= 3 and set(wanted) <= {text for _, _, text in drawn}
            assert all(box.left() >= 0 for box, _, _ in drawn), plot.titleLabel.text


def test_steady_span_moves_only_when_the_values_leave_or_shrink() -> None:
    from designer.training.widgets import steady_span

    first = steady_span(None, 2.0, 4.0, margin=0.5)
    assert first == (1.0, 5.0)
    assert steady_span(first, 2.5, 3.9, margin=0.5) is None  # inside and filling a third
    assert steady_span(first, 2.5, 5.5, margin=0.5) == (1.0, 7.0)  # out at the top
    assert steady_span(first, 3.0, 3.5, margin=0.5) == (2.75, 3.75)  # far narrower
    assert steady_span((0.0, 12.0), -3.0, 10.0, margin=0.2, from_zero=True) is None
    assert steady_span((0.0, 12.0), 0.0, 3.0, margin=0.2, from_zero=True) == (0.0, 3.6)
    assert steady_span(None, 1.0, float("nan"), margin=0.1) is None
    assert steady_span(None, 5.0, 5.0, margin=0.1) == (4.5, 5.5)  # one value: around it


def test_nice_log_bounds_end_on_labelled_values() -> None:
    from designer.training.widgets import nice_log_bounds

    def ends(low: float, high: float) -> list[float]:
        return [round(10**v, 12) for v in nice_log_bounds(low, high)]

    assert ends(0.0082, 0.017) == [0.005, 0.02]
    assert ends(0.3, 4.0) == [0.2, 5.0]
    assert ends(2e-5, 0.0099) == [2e-5, 0.01]
    assert ends(0.05, 0.05) == [0.05, 0.05]


def test_gradient_plots_keep_their_ranges_while_snapshots_vary_a_little(dashboard, qtbot):
    """The gradient page follows its data without autoscaling (which re-ranged, redrew every
    axis and painted twice on each snapshot): small changes keep the ranges, and values
    beyond them move the ranges so that every point stays in view."""
    from dataclasses import replace

    dashboard.page_interval = 0.0  # every snapshot drawn (not twice a second at most)
    page = dashboard.gradients
    click_tab(qtbot, dashboard, page)
    plots = page.norm_plot, page.dead_plot, page.hist_plot
    snap = te.snapshot(5)
    dashboard.apply([snap])
    qtbot.wait(20)  # painted (an autoscaling plot takes its range then)
    ranges = [plot.viewRange() for plot in plots]
    boxes = [plot.vb.sceneBoundingRect() for plot in plots]
    counts, edges = snap.histograms["conv1"]
    nudged = replace(
        snap,
        step=6,
        grad_norms={name: norm * 1.1 for name, norm in snap.grad_norms.items()},
        histograms={"conv1": (counts + 1, edges * 0.98), "fc": snap.histograms["fc"]},
    )
    dashboard.apply([nudged])
    qtbot.wait(20)
    assert [plot.viewRange() for plot in plots] == ranges
    outgrown = replace(
        snap,
        step=7,
        grad_norms={"conv1": 30.0, "conv2": 0.05, "fc": 1e-7},
        histograms={"conv1": (counts * 3, edges * 2), "fc": snap.histograms["fc"]},
    )
    dashboard.apply([outgrown])
    qtbot.wait(20)
    (_, (norm_low, norm_high)), _, ((hist_left, hist_right), (_, hist_top)) = (
        plot.viewRange() for plot in plots
    )
    assert norm_low <= -7 and norm_high >= np.log10(30.0)  # log10 of the norms
    assert hist_left <= edges[0] * 2 and hist_right >= edges[-1] * 2
    assert hist_top >= counts.max() * 3
    assert [plot.vb.sceneBoundingRect() for plot in plots] == boxes  # the layout held
    low, high = page.norm_plot.viewRange()[0]
    assert low < 0 < 2 < high  # every layer's point in view


def test_the_dead_relu_plot_says_when_the_network_has_no_relu(dashboard, qtbot) -> None:
    from dataclasses import replace

    title = dashboard.gradients.dead_plot.titleLabel
    assert "zero for the whole batch" in title.text
    dashboard.begin("tanh network")
    dashboard.apply([replace(te.run_started(), relu_layers=())])  # LeNet-5 as in the paper
    assert "has no ReLU layers" in title.text
    dashboard.begin("relu network")
    dashboard.apply([te.run_started()])
    assert "zero for the whole batch" in title.text


def test_the_bar_names_the_last_epoch_when_the_last_steps_come_with_the_end(dashboard) -> None:
    """Seen under Xvfb: the last epochs' steps arrived in one tick with Finished, and the bar
    read "epoch 1/2 · 100%" after a completed two-epoch run (a finished run keeps its own time
    message, and the bar was drawn with that message only while running)."""
    dashboard.apply([te.step(20, epoch=1)])
    assert dashboard.progress.format().startswith("epoch 1/2")
    dashboard.apply([te.step(40, epoch=2), te.epoch_end(2, 40), te.finished()])
    assert dashboard.progress.format().startswith("epoch 2/2")
    assert dashboard.progress.value() == 1000
    assert dashboard.eta.text().startswith("completed after")  # its own message kept


def test_a_paused_run_shows_its_last_step_on_the_bar(dashboard) -> None:
    dashboard.apply([te.step(20, epoch=1)])
    dashboard.apply([te.step(30, epoch=2), Paused(30)])
    assert dashboard.progress.format().startswith("epoch 2/2")
    assert dashboard.progress.value() == 750
    assert dashboard.eta.text() == "paused at step 30"


def test_the_speed_says_how_many_cpu_threads_the_epoch_computed_with(dashboard) -> None:
    """A CPU run lowers its thread count when other programs take cores (engine.training.cores):
    the throughput's tooltip says so, or a slower epoch would be unexplained."""
    from dataclasses import replace

    dashboard.apply([te.step(20), replace(te.epoch_end(1, 20), threads=2)])
    assert dashboard.speed_label.toolTip().startswith("Epoch 1 computed with 2 threads on the CPU")
    dashboard.apply([te.step(40, epoch=2), replace(te.epoch_end(2, 40), threads=1)])
    assert "Epoch 2 computed with 1 thread on the CPU" in dashboard.speed_label.toolTip()
    dashboard.begin("another run")
    assert dashboard.speed_label.toolTip() == ""
