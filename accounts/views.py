"""Sign-in (with lock-out and a second factor), password reset, the role home and the audit pages."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_otp import devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import audit_display, permissions, selectors, services
from accounts.audit import audit_record
from accounts.forms import (
    AuditFilterForm,
    DeskLanguageForm,
    OtpForm,
    ReadingLanguagesForm,
    SignInForm,
    SiteUrlPasswordResetForm,
)
from accounts.middleware import OTP_PENDING_SESSION_KEY, second_factor_pending
from accounts.models import Notification, Role, User

ROLE_HOMES = {
    Role.OFFICER: "campaigns:messages",
    Role.SUPERVISOR: "campaigns:review",
    Role.LIAISON: "inbox:list",
    Role.ADMIN: "desk_accounts:audit",
}


def home_url(user: Any) -> str:
    role = permissions.primary_role(user)
    return reverse(ROLE_HOMES.get(role, "campaigns:events"))


class SignInView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def form_valid(self, form: SignInForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        if any(devices_for_user(user, confirmed=True)):
            self.request.session[OTP_PENDING_SESSION_KEY] = True
            return redirect(f"{reverse('accounts:otp')}?next={self.get_redirect_url() or ''}")
        return response

    def get_default_redirect_url(self) -> str:
        return reverse("desk_accounts:home")


class SignOutView(auth_views.LogoutView):
    next_page = reverse_lazy("accounts:login")


def _needs_second_factor_first(request: HttpRequest) -> HttpResponse | None:
    # /accounts/ is outside the two-factor middleware (it holds the sign-in pages themselves), so
    # pages here that change credentials check it: a password alone must not replace the password.
    if second_factor_pending(request):
        return redirect(f"{reverse('accounts:otp')}?next={request.path}")
    return None


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change the password: every API token is revoked and every other session ends (signals and
    Django's session hash); this session stays (``update_session_auth_hash``)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("desk_accounts:home")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and (pending := _needs_second_factor_first(request)) is not None:
            return pending
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is changed. You are signed out everywhere else, "
                                         "and your API tokens no longer work."))
        return response


@login_required
@require_http_methods(["POST"])
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """Revoke every API token and end every session of the signed-in user, this one included."""
    if (pending := _needs_second_factor_first(request)) is not None:
        return pending
    services.user_sign_out_everywhere(user=request.user)
    logout(request)
    return redirect("accounts:login")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = SiteUrlPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


def _safe_next(request: HttpRequest) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("desk_accounts:home")


@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request: HttpRequest) -> HttpResponse:
    if not any(devices_for_user(request.user, confirmed=True)):
        return redirect("accounts:otp_setup")
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["otp"].strip())
        if device is not None:
            otp_login(request, device)
            request.session.pop(OTP_PENDING_SESSION_KEY, None)
            audit_record(actor=request.user, verb="auth.second_factor_verified", target=request.user)
            return redirect(_safe_next(request))
        audit_record(actor=request.user, verb="auth.second_factor_failed", target=request.user)
        form.add_error("otp", _("That code is not right, or it has expired. Try the current one."))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": request.GET.get("next", "")})


@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request: HttpRequest) -> HttpResponse:
    if any(devices_for_user(request.user, confirmed=True)):
        return redirect("accounts:otp")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="Authenticator app", confirmed=False)
    form = OtpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["otp"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])  # ends every other session and API token (signals)
            request.user.refresh_from_db(fields=["session_generation"])
            update_session_auth_hash(request, request.user)  # ... but keeps this one
            otp_login(request, device)
            audit_record(actor=request.user, verb="auth.second_factor_enrolled", target=request.user)
            messages.success(request, _("Two-factor sign-in is on for your account."))
            return redirect("desk_accounts:home")
        form.add_error("otp", _("That code is not right. Check the time on your phone and try again."))
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR code for your authenticator app")
    return render(request, "accounts/otp_setup.html", {"form": form, "qr_svg": qr, "secret": device.bin_key.hex()})


@login_required
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    return redirect(home_url(request.user))


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    """The desk's styled 403 page, with the reason in plain words."""
    return render(request, "campaigns/forbidden.html", {"reason": reason}, status=403)


@login_required
@require_safe
def audit_list(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_audit(request.user):
        return _forbidden(request, _("Only administrators can read the audit trail."))
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    events = selectors.audit_events(user=request.user, **{k: v for k, v in filters.items() if v})
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    for event in page:
        event.details = audit_display.details_text(event.summary)
        event.object_url = audit_display.object_url(event.target_type, event.target_id)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/audit_list.html", {"form": form, "page": page, "query": query.urlencode()})


@login_required
@require_safe
def audit_export(request: HttpRequest) -> HttpResponse:
    if not permissions.can_view_audit(request.user):
        return _forbidden(request, _("Only administrators can export the audit trail."))
    form = AuditFilterForm(request.GET or None)
    unknown = sorted(set(request.GET) - set(form.fields))
    if unknown or (form.is_bound and not form.is_valid()):
        # Never the whole log in place of what was asked for.
        problems = [f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
                    for name, errors in form.errors.items()]
        problems += [f"{name}: not a filter (use {', '.join(form.fields)})" for name in unknown]
        return HttpResponseBadRequest("The filters are not valid, so nothing was exported.\n" + "\n".join(problems),
                                      content_type="text/plain; charset=utf-8")
    filters = {k: v for k, v in (form.cleaned_data if form.is_bound else {}).items() if v}
    events = selectors.audit_events(user=request.user, **filters)[:100_000]
    body = services.audit_export_csv(actor=request.user, events=events,
                                     filters={k: str(v) for k, v in filters.items()})
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="engage-audit.csv"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    items = Notification.objects.filter(user=request.user)[:100]
    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("desk_accounts:notifications")
    return render(request, "accounts/notifications.html", {"items": items})


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    """Each kind of alert, on or off in the app and by email, for the signed-in person."""
    from accounts.models import NotificationPreference
    from accounts.notify import KINDS

    if request.method == "POST":
        choices = {kind: (request.POST.get(f"{kind}-app") == "on", request.POST.get(f"{kind}-email") == "on")
                   for kind in KINDS}
        services.notification_preferences_set(user=request.user, choices=choices)
        messages.success(request, _("Alert settings saved."))
        return redirect("desk_accounts:notification_settings")
    saved = {p.kind: p for p in NotificationPreference.objects.filter(user=request.user)}
    rows = [{"kind": kind, "label": rule.label or kind, "email_offered": bool(rule.email),
             "in_app": saved[kind].in_app if kind in saved else True,
             "email": saved[kind].email if kind in saved else True} for kind, rule in KINDS.items()]
    return render(request, "accounts/notification_settings.html", {"rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def reading_languages(request: HttpRequest, user_id: int | None = None) -> HttpResponse:
    """The languages a person reads: their own, or (an administrator of their team) someone else's."""
    person = request.user if user_id is None else User.objects.filter(pk=user_id).first()
    if person is None or not services.may_set_reading_languages(request.user, person):
        return render(request, "accounts/reading_languages.html", {"missing": True}, status=404)
    if request.method == "POST":
        form = ReadingLanguagesForm(request.POST)
        if form.is_valid():
            services.user_set_reading_languages(actor=request.user, user=person,
                                                codes=form.cleaned_data["languages"])
            messages.success(request, _("Languages saved."))
            return redirect(request.path)
        return render(request, "accounts/reading_languages.html", {"form": form, "person": person}, status=400)
    form = ReadingLanguagesForm(initial={"languages": person.reads_languages or []})
    return render(request, "accounts/reading_languages.html", {"form": form, "person": person})


@login_required
@require_http_methods(["GET", "POST"])
def desk_language(request: HttpRequest) -> HttpResponse:
    """The language of the desk's own words for the signed-in person (English or Welsh)."""
    if request.method == "POST":
        form = DeskLanguageForm(request.POST)
        if form.is_valid():
            services.user_set_desk_language(user=request.user, language=form.cleaned_data["language"])
            translation.activate(request.user.desk_language)  # the confirmation is in the new language
            messages.success(request, _("Desk language saved."))
            return redirect("desk_accounts:desk_language")
        return render(request, "accounts/desk_language.html", {"form": form}, status=400)
    form = DeskLanguageForm(initial={"language": request.user.desk_language})
    return render(request, "accounts/desk_language.html", {"form": form})
