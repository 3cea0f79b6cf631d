"""The explorer's widgets and their layout; no training here."""

from __future__ import annotations

import math

import ipywidgets as widgets

from . import settings

READABLE = ("Learning-rate explorer (interactive widgets): run this notebook in JupyterLab, "
            "or start the app with `make app`.")


class ExplorerView(widgets.VBox):
    """The explorer's box. Where widgets cannot render (a static page, the stored notebook before it is
    run) a notebook shows a widget's text/plain: here one readable line instead of ``VBox(children=...``."""

    def __repr__(self) -> str:
        return READABLE

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = READABLE  # whole: ipywidgets cuts a repr at 110 characters
        return bundle


class Controls:
    """Sliders, dropdowns, the stop button and the four outputs (status, legend, curves, landscape).

    ``values()`` is what the controls show; ``set_values(**values)`` moves
    them without firing the change callback; ``on_change(callback)`` is
    called with no argument after a user's change.
    """

    def __init__(self, config):
        style = {"description_width": "90px"}
        wide, narrow = widgets.Layout(width="420px"), widgets.Layout(width="200px")
        low, high, step = settings.LR_EXPONENTS
        self.lr = widgets.FloatLogSlider(
            value=config.lr, base=10, min=low, max=high, step=step, description="learning rate",
            readout_format=settings.LR_READOUT_FORMAT, continuous_update=False, style=style, layout=wide)
        self.hidden_size = self._selection("hidden size", settings.HIDDEN_SIZES, config.hidden_size, style, wide)
        self.steps = self._selection("steps", settings.STEP_COUNTS, config.steps, style, wide)
        self.batch_size = self._selection("batch size", settings.BATCH_SIZES, config.batch_size, style, wide)
        self.seed = widgets.BoundedIntText(value=config.seed, min=0, max=2**31 - 1, description="seed",
                                           continuous_update=False, style=style, layout=narrow)
        self.init = widgets.Dropdown(options=settings.init_options(), value=config.init, description="init",
                                     style=style, layout=widgets.Layout(width="330px"))
        self.optimizer = widgets.Dropdown(options=settings.optimizer_options(), value=config.optimizer,
                                          description="optimizer", style=style, layout=widgets.Layout(width="330px"))
        self.rule = widgets.Dropdown(options=settings.rule_options(), value=config.rule, description="rule",
                                     style=style, layout=widgets.Layout(width="330px"))
        self.stop = widgets.Button(description="stop", icon="stop", disabled=True, tooltip="cancel the running training",
                                   layout=widgets.Layout(width="80px", margin="2px 4px 2px 98px"))
        self.progress = widgets.IntProgress(value=0, min=0, max=config.steps,
                                            layout=widgets.Layout(width="300px", visibility="hidden"))
        self.status = widgets.HTML(value="starting ...")
        self.legend = widgets.HTML()  # which run is which: text in HTML costs nothing to redraw
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="720px"))
        self.landscape = widgets.HTML()  # a small SVG: a slider move only rewrites a few hundred bytes
        self.values_by_name = {"lr": self.lr, "hidden_size": self.hidden_size, "steps": self.steps,
                               "batch_size": self.batch_size, "seed": self.seed, "init": self.init,
                               "optimizer": self.optimizer, "rule": self.rule}
        self._callback, self._quiet = None, False
        for control in self.values_by_name.values():
            control.observe(self._changed, names="value")
        # CSS classes: handles for the browser tests and for anyone styling the app
        for widget, name in ((self.lr, "lr"), (self.status, "status"), (self.legend, "legend"),
                             (self.image, "curves"), (self.landscape, "landscape")):
            widget.add_class(f"explorer-{name}")
        self.view = self._layout()

    @staticmethod
    def _selection(description, options, value, style, layout):
        return widgets.SelectionSlider(options=sorted(set(options) | {value}), value=value, description=description,
                                       continuous_update=False, style=style, layout=layout)

    def _layout(self) -> ExplorerView:
        sliders = widgets.VBox([self.lr, self.hidden_size, self.steps, self.batch_size],
                               layout=widgets.Layout(min_width="430px"))  # no shrinking: readouts stay whole
        choices = widgets.VBox([self.rule, self.init, self.optimizer, self.seed,
                                widgets.HBox([self.stop, self.progress])])
        view = ExplorerView([widgets.HBox([sliders, choices]), self.status, self.legend,
                             widgets.HBox([self.image, self.landscape], layout=widgets.Layout(flex_flow="row wrap"))])
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
            raise TypeError(f"unknown control(s) {', '.join(sorted(unknown))}; choose from {', '.join(self.values_by_name)}")

    def training(self, steps: int | None) -> None:
        """Show the progress bar and enable stop for a run of ``steps`` steps; None hides them."""
        self.stop.disabled = steps is None
        self.progress.max, self.progress.value = steps or 1, 0
        self.progress.layout.visibility = "hidden" if steps is None else "visible"

    def lr_grid(self):
        """Every value the learning-rate slider can take now."""
        return settings.lr_grid(self.lr.min, self.lr.max, self.lr.step)

    def all(self) -> list:
        return [*self.values_by_name.values(), self.stop, self.progress, self.status, self.legend, self.image,
                self.landscape]
