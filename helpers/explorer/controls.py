"""The explorer's widgets and their layout; no training here."""

from __future__ import annotations

import math

import ipywidgets as widgets

from .. import rules
from . import settings

READABLE = (
    "Learning-rate explorer (interactive widgets): run this notebook in JupyterLab, or start the app with `make app`."
)


class ExplorerView(widgets.VBox):
    """The explorer's box. Where widgets cannot render (a static page, the stored notebook before it is
    run) a notebook shows a widget's text/plain: here one readable line instead of ``VBox(children=...``."""

    def __repr__(self) -> str:
        return READABLE

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = READABLE  # whole: ipywidgets cuts a repr at 110 characters
        return bundle


# Sizes for a projector: at 1024 x 700 with JupyterLab's file browser open the output area is about 590 px
# wide and 575 px high; everything (controls, status, legend, curves, landscape) fits in that box
CONTROL_WIDTH_PX = 264  # two columns of controls beside the landscape from about 830 px on, one column below
LANDSCAPE_SIZE_PX = (280, 240)
CURVES_WIDTH_PX = 584  # helpers.explorer.figure.CurvePlot: 7.3 in at 80 dpi  # the accuracy-vs-lr plot beside the controls (width, height)

# Styles no ipywidgets Layout can set: one row of controls 28 px high (not 32), a legend kept to one line, and
# the "not running" line that appears when the kernel behind this view is gone: on a kernel restart
# ipywidgets 8 marks every view of the old kernel's widgets with the class jupyter-widgets-disconnected.
STYLE = """<style>
.explorer { --jp-widgets-inline-height: 26px; --jp-widgets-margin: 1px; }
.explorer .explorer-legend { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.explorer .explorer-legend .widget-html-content, .explorer .explorer-status .widget-html-content {
  line-height: 17px; }
.explorer .explorer-stale { display: none; }
.explorer.jupyter-widgets-disconnected .explorer-stale { display: block; }
.explorer.jupyter-widgets-disconnected > :not(.explorer-stale) { opacity: 0.3; pointer-events: none; }
</style>"""
STALE = (
    "<b style='color:#b00'>not running: the kernel that drew this explorer has stopped "
    "(restarted or shut down). Re-run this cell.</b>"
)


class Controls:
    """Sliders, dropdowns, the buttons (stop, run again, reset), the progress bar and the outputs
    (status, legend, curves, landscape).

    ``values()`` is what the controls show; ``set_values(**values)`` moves
    them without firing the change callback; ``on_change(callback)`` is
    called with no argument after a user's change.
    """

    def __init__(self, config):
        style = {"description_width": "84px"}

        def width(px=CONTROL_WIDTH_PX):
            return widgets.Layout(width=f"{px}px")

        low, high, step = settings.LR_EXPONENTS
        self.lr = widgets.FloatLogSlider(
            value=config.lr,
            base=10,
            min=low,
            max=high,
            step=step,
            description="learning rate",
            readout_format=settings.LR_READOUT_FORMAT,
            continuous_update=False,
            style=style,
            layout=width(),
        )
        self.hidden_size = self._selection("hidden size", settings.HIDDEN_SIZES, config.hidden_size, style, width())
        self.steps = self._selection("steps", settings.STEP_COUNTS, config.steps, style, width())
        self.batch_size = self._selection("batch size", settings.BATCH_SIZES, config.batch_size, style, width())
        self.rule = widgets.Dropdown(
            options=settings.rule_options(), value=config.rule, description="rule", style=style, layout=width()
        )
        self.init = widgets.Dropdown(
            options=settings.init_options(), value=config.init, description="init", style=style, layout=width()
        )
        self.optimizer = widgets.Dropdown(
            options=settings.optimizer_options(),
            value=config.optimizer,
            description="optimizer",
            style=style,
            layout=width(),
        )
        self.seed = widgets.BoundedIntText(
            value=config.seed,
            min=0,
            max=2**31 - 1,
            description="seed",
            continuous_update=False,
            style=style,
            layout=width(),
        )
        self.stop = widgets.Button(
            description="stop",
            icon="stop",
            disabled=True,
            tooltip="cancel the running training",
            layout=widgets.Layout(width="70px"),
        )
        self.again = widgets.Button(
            description="run again",
            icon="redo",
            tooltip="train these settings again",
            layout=widgets.Layout(width="102px"),
        )
        self.reset = widgets.Button(
            description="reset",
            icon="undo",
            tooltip="every control back to its start",
            layout=widgets.Layout(width="80px"),
        )
        self.progress = widgets.IntProgress(
            value=0, min=0, max=config.steps, layout=widgets.Layout(width="110px", display="none")
        )
        self.status = widgets.HTML(value="starting ...", layout=widgets.Layout(flex="1 1 auto", width="auto"))
        self.legend = widgets.HTML(layout=widgets.Layout(width="auto"))  # text in HTML costs nothing to redraw
        # shown at its own size (584 px), narrower only where the output is narrower: never blown up
        self.image = widgets.Image(
            format="png", layout=widgets.Layout(width=f"{CURVES_WIDTH_PX}px", max_width="100%", height="auto")
        )
        self.landscape = widgets.HTML()  # a small SVG: a slider move only rewrites a few hundred bytes
        self.style = widgets.HTML(STYLE, layout=widgets.Layout(display="none"))  # a <style> applies while hidden
        self.stale = widgets.HTML(STALE)
        self.values_by_name = {
            "lr": self.lr,
            "hidden_size": self.hidden_size,
            "steps": self.steps,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "init": self.init,
            "optimizer": self.optimizer,
            "rule": self.rule,
        }
        self._callback, self._quiet = None, False
        for control in self.values_by_name.values():
            control.observe(self._changed, names="value")
        # CSS classes: handles for the browser tests and for anyone styling the app
        for widget, name in (
            (self.lr, "lr"),
            (self.status, "status"),
            (self.legend, "legend"),
            (self.image, "curves"),
            (self.landscape, "landscape"),
            (self.stop, "stop"),
            (self.again, "again"),
            (self.reset, "reset"),
            (self.progress, "progress"),
            (self.stale, "stale"),
            (self.rule, "rule"),
            (self.hidden_size, "hidden"),
            (self.seed, "seed"),
            (self.init, "init"),
            (self.optimizer, "optimizer"),
            (self.steps, "steps"),
            (self.batch_size, "batch"),
        ):
            widget.add_class(f"explorer-{name}")
        self.view = self._layout()

    @staticmethod
    def _selection(description, options, value, style, layout):
        return widgets.SelectionSlider(
            options=sorted(set(options) | {value}),
            value=value,
            description=description,
            continuous_update=False,
            style=style,
            layout=layout,
        )

    def _layout(self) -> ExplorerView:
        # controls flow into as many columns as fit beside the landscape (one at 590 px, two from about 830 px)
        buttons = widgets.HBox(
            [self.stop, self.again, self.reset], layout=widgets.Layout(width=f"{CONTROL_WIDTH_PX}px")
        )
        controls = widgets.Box(
            [
                self.lr,
                self.hidden_size,
                self.steps,
                self.batch_size,
                self.rule,
                self.init,
                self.optimizer,
                self.seed,
                buttons,
            ],
            layout=widgets.Layout(
                display="flex",
                flex_flow="row wrap",
                align_content="flex-start",
                flex="1 1 auto",
                min_width=f"{CONTROL_WIDTH_PX + 4}px",
            ),
        )
        controls.add_class("explorer-controls")
        width, height = LANDSCAPE_SIZE_PX
        self.landscape.layout = widgets.Layout(flex=f"0 0 {width}px", width=f"{width}px", height=f"{height}px")
        top = widgets.HBox([controls, self.landscape], layout=widgets.Layout(align_items="flex-start"))
        status = widgets.HBox([self.progress, self.status], layout=widgets.Layout(align_items="center"))
        view = ExplorerView([self.style, self.stale, top, status, self.legend, self.image])
        view.add_class("explorer")
        return view

    def values(self) -> dict:
        return {name: control.value for name, control in self.values_by_name.items()}

    def on_change(self, callback) -> None:
        self._callback = callback

    def _changed(self, change) -> None:
        if not self._quiet and self._callback is not None:
            self._callback()

    def set_values(self, **values) -> None:
        """Move controls to ``values`` (widening a slider for a value it lacks) without a change callback."""
        self.check_names(values)
        self._quiet = True  # one request for all the values, not one per control
        try:
            for name, value in values.items():
                control = self.values_by_name[name]
                if isinstance(control, widgets.SelectionSlider) and value not in control.options:
                    control.options = sorted(set(control.options) | {value})  # e.g. hidden size 100
                if control is self.rule and value not in [name for _, name in control.options]:
                    # a rule registered after the explorer was built: read the registry again
                    rules.check_rule(value)
                    control.options = settings.rule_options()
                if control is self.lr:  # widen the log slider rather than clamp the value
                    exponent = math.log10(value)
                    self.lr.min = min(self.lr.min, math.floor(exponent))
                    self.lr.max = max(self.lr.max, math.ceil(exponent))
                control.value = value
        finally:
            self._quiet = False

    def check_names(self, values) -> None:
        """Raise TypeError if ``values`` names a control that does not exist."""
        unknown = set(values) - set(self.values_by_name)
        if unknown:
            raise TypeError(
                f"unknown control(s) {', '.join(sorted(unknown))}; choose from {', '.join(self.values_by_name)}"
            )

    def training(self, steps: int | None) -> None:
        """Show the progress bar and enable stop for a run of ``steps`` steps; None hides them."""
        self.stop.disabled = steps is None
        self.progress.max, self.progress.value = steps or 1, 0
        self.progress.layout.display = "none" if steps is None else "flex"

    @property
    def training_shown(self) -> bool:
        """True while the progress bar is shown (a run trains)."""
        return self.progress.layout.display != "none"

    def lr_grid(self):
        """Every value the learning-rate slider can take now."""
        return settings.lr_grid(self.lr.min, self.lr.max, self.lr.step)

    def all(self) -> list:
        return [
            *self.values_by_name.values(),
            self.stop,
            self.again,
            self.reset,
            self.progress,
            self.status,
            self.legend,
            self.image,
            self.landscape,
            self.style,
            self.stale,
        ]
