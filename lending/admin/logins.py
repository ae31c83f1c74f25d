"""Locked logins (django-axes) for administrators: the library's cleanup action read a request
attribute only its login handling sets (HTTP 500 from the admin); here it is set, and the action
needs the delete permission like any other deletion."""

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LockedLoginAdmin(AccessAttemptAdmin):
    actions = ["cleanup_expired_attempts"]

    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        request.axes_attempt_time = timezone.now()
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(request, _("Cleaned up %d expired access attempts.") % count)
