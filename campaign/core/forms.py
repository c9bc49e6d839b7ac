"""What every area's forms share: domain rules as WTForms validators, checkbox lists."""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import FieldList, FloatField, FormField, HiddenField, IntegerField, SelectMultipleField
from wtforms.csrf.core import CSRFTokenField
from wtforms.validators import ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from . import validation as rules


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


class WholeNumberField(IntegerField):
    """An integer typed in ASCII digits, of any length: :func:`rules.whole_number` reads it
    (a number past every limit is read as one its range rule refuses, with that rule's
    message), so no value reaches a validator or the database as an overflow."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        if valuelist[0].strip():
            self.data = rules.whole_number(valuelist[0])  # ValueError: the form's message


class DecimalNumberField(FloatField):
    """A decimal number typed in ASCII digits (no exponent, nan or inf)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = None
        if valuelist[0].strip():
            self.data = rules.decimal_number(valuelist[0])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _WTFormsMessages:
    """WTForms' own messages ("This field is required.") from its catalogue, which has one
    Serbian in Latin: in Cyrillic on a Cyrillic page."""

    @staticmethod
    def _script(text: str) -> str:
        from ..i18n import script_text

        return script_text(text)

    def gettext(self, string):
        return self._script(wtforms_translations.gettext(string))

    def ngettext(self, singular, plural, n):
        return self._script(wtforms_translations.ngettext(singular, plural, n))


class Form(FlaskForm):
    """The base of every form of the campaign."""

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return _WTFormsMessages()


def _fields(form):
    for field in form:
        if isinstance(field, FieldList):
            for entry in field.entries:
                if isinstance(entry, FormField):
                    yield from _fields(entry.form)
                else:
                    yield entry
            yield field  # the list's own messages ("fill in at least one row")
        elif isinstance(field, FormField):
            yield from _fields(field.form)
        else:
            yield field


def error_list(form, targets: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """Every message of a submitted form, in the order of its fields, as (the id of the
    element a link should lead to, the field's label, the message): the summary at the top
    of a form, which shows all mistakes at once. ``targets`` maps a field name to another
    element's id (a checkbox list's first box, the partner picker's search box)."""
    targets = targets or getattr(form, "error_targets", None) or {}
    items = []
    for field in _fields(form):
        if isinstance(field, CSRFTokenField | HiddenField):
            continue
        messages = [m for m in field.errors if not isinstance(m, list | tuple | dict)]
        if not messages:
            continue
        if field.name in targets:
            target = targets[field.name]
        elif isinstance(field, SelectMultipleField) and field.choices:
            target = f"{field.id}-0"
        else:
            target = field.id
        label = field.label.text if field.label else field.name
        items.extend((target, str(label), str(m)) for m in messages)
    return items
