"""What every area's forms share: domain rules as WTForms validators, checkbox lists."""

from __future__ import annotations

from collections.abc import Callable

from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import FloatField, IntegerField, SelectMultipleField
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
