"""Messages from the pure modules (reading, values): a template and its values, translated
where they are shown. No Django import: `gettext_noop` here only marks a template for
makemessages (the keyword it knows), and the Django side calls `gettext` on the template before
filling it in (a filled-in sentence cannot be looked up in a catalogue)."""


def gettext_noop(template: str) -> str:
    return template


class Term(str):
    """A word put into a message ("an amount"), translated with it: mark the literal with
    `gettext_noop` so makemessages finds it."""


class Problem(ValueError):
    """A refusal in words: `template` with `%(name)s` placeholders and their `params` (a Term
    or a Problem among them is translated too)."""

    def __init__(self, template: str, **params):
        super().__init__(template)
        self.template = template
        self.params = params

    def text(self, translate=None) -> str:
        template = translate(self.template) if translate else self.template
        if not self.params:
            return template
        return template % {name: _shown(v, translate) for name, v in self.params.items()}

    def __str__(self) -> str:
        return self.text()


def _shown(value, translate):
    if isinstance(value, Problem):
        return value.text(translate)
    if isinstance(value, Term) and translate:
        return translate(value)
    return value
