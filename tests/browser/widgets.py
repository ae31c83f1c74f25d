"""Driving the admin's widgets as a person does."""


def pick(page, select: str, typed: str, option: str | None = None) -> None:
    """An autocomplete (select2) picker: open it, type `typed` into its search field and click
    the offered option holding `option` (default: what was typed). The <select> itself is hidden,
    so filling it is not what a user can do."""
    page.locator(f"{select} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(typed)
    # Options arrive from the server after a short delay; "Searching…" is no option to take.
    offered = page.locator(
        ".select2-container--open .select2-results__option:not(.loading-results)",
        has_text=option or typed,
    )
    offered.first.click()
    chosen = page.locator(f"{select} + .select2 .select2-selection__rendered")
    assert (option or typed) in chosen.inner_text()


def picked(page, select: str) -> str:
    """What an autocomplete picker shows as chosen."""
    return page.locator(f"{select} + .select2 .select2-selection__rendered").inner_text()
