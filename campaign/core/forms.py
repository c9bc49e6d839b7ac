"""What every area's forms share: domain rules as WTForms validators, checkbox lists."""

from __future__ import annotations

from collections.abc import Callable

from wtforms import SelectMultipleField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget


class Rule:
    """A rule of :mod:`campaign.core.validation` as a field validator, so a form shows the
    same message as the operations layer and the command line."""

    def __init__(self, rule: Callable[..., str | None], **options):
        self.rule, self.options = rule, options

    def __call__(self, _form, field) -> None:
        if field.data is None or field.data == "":
            return
        message = self.rule(field.data, **self.options)
        if message:
            raise ValidationError(message)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
