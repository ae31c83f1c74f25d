"""Messages from the pure modules (reading, values): a template and its values, translated
where they are shown. No Django import: `gettext_noop` here only marks a template for
makemessages (the keyword it knows), and the Django side calls `gettext` on the template before
filling it in (a filled-in sentence cannot be looked up in a catalogue)."""


def gettext_noop(template: str) -> str:
    return template


class Problem(ValueError):
    """A refusal in words: `template` with `%(name)s` placeholders and their `params`."""

    def __init__(self, template: str, **params):
        super().__init__(template)
        self.template = template
        self.params = params

    def text(self, translate=None) -> str:
        template = translate(self.template) if translate else self.template
        return template % self.params if self.params else template

    def __str__(self) -> str:
        return self.text()
