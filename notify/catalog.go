package notify

import (
	"bytes"
	"fmt"
	"html/template"
	"strings"
	texttemplate "text/template"
)

// Message kinds.
const (
	KindCode             = "code"
	KindPasswordChanged  = "password_changed"
	KindPasswordReset    = "password_reset"
	KindPasswordReminder = "password_reminder"
	KindUsernameChanged  = "username_changed"
	KindEmailLinked      = "email_linked"
	KindEmailChangedOld  = "email_changed_old"
	KindEmailUnlinked    = "email_unlinked"
	KindPhoneLinked      = "phone_linked"
	KindPhoneChangedOld  = "phone_changed_old"
	KindPhoneUnlinked    = "phone_unlinked"
	KindTwoFactorOn      = "two_factor_on"
	KindTwoFactorOff     = "two_factor_off"
	KindAccountLocked    = "account_locked"
	KindNotification     = "notification"
	KindAccountDeleted   = "account_deleted"
	KindAuthenticatorOn  = "authenticator_on"
	KindAuthenticatorOff = "authenticator_off"
)

type entry struct{ Subject, Text string }

// catalog holds the subject and text of every kind in every language. Texts are
// text/template sources over the message's Data. No text ever includes a
// password; only KindCode carries a secret (the code), and its message is
// marked sensitive.
var catalog = map[string]map[string]entry{
	"en": {
		KindCode:             {"Your Atrium verification code", "Your Atrium verification code to {{.Purpose}} is {{.Code}}. It is valid for {{.Minutes}} minutes. Never share it with anyone; Atrium staff will never ask for it. If you did not ask for it, ignore this message."},
		KindPasswordChanged:  {"Your Atrium password was changed", "The password of your Atrium account {{.Username}} was changed at {{.At}}. Your other sessions were signed out.{{if .NextChange}} The next password change is due by {{.NextChange}}.{{end}} If you did not do this, reset your password and contact your administrator at once."},
		KindPasswordReset:    {"Your Atrium password was reset", "The password of your Atrium account {{.Username}} was reset with a verification code at {{.At}}. Every session was signed out.{{if .NextChange}} The next password change is due by {{.NextChange}}.{{end}} If you did not do this, contact your administrator at once."},
		KindPasswordReminder: {"Your Atrium password expires soon", "The password of your Atrium account {{.Username}} expires on {{.ExpiresAt}}. Sign in and change it in Personal Center before then."},
		KindUsernameChanged:  {"Your Atrium username was changed", "The username of your Atrium account was changed from {{.Old}} to {{.New}} at {{.At}}. Sign in with the new username. If you did not do this, contact your administrator at once."},
		KindEmailLinked:      {"Email address linked to your Atrium account", "This email address is now linked to the Atrium account {{.Username}} ({{.At}}). You will receive verification codes and notices here."},
		KindEmailChangedOld:  {"The email address of your Atrium account was changed", "The email address of the Atrium account {{.Username}} was changed to {{.New}} at {{.At}}. This address no longer receives its codes and notices. If you did not do this, contact your administrator at once."},
		KindEmailUnlinked:    {"Email address unlinked from your Atrium account", "This email address was unlinked from the Atrium account {{.Username}} at {{.At}}. If you did not do this, contact your administrator at once."},
		KindPhoneLinked:      {"Phone linked", "[Atrium] This phone number is now linked to the account {{.Username}} ({{.At}})."},
		KindPhoneChangedOld:  {"Phone changed", "[Atrium] The phone number of the account {{.Username}} was changed to {{.New}} at {{.At}}. If you did not do this, contact your administrator."},
		KindPhoneUnlinked:    {"Phone unlinked", "[Atrium] This phone number was unlinked from the account {{.Username}} at {{.At}}. If you did not do this, contact your administrator."},
		KindTwoFactorOn:      {"Dual-factor authentication turned on", "Dual-factor authentication was turned on for the Atrium account {{.Username}} at {{.At}}. Signing in now takes your password and an SMS code."},
		KindTwoFactorOff:     {"Dual-factor authentication turned off", "Dual-factor authentication was turned off for the Atrium account {{.Username}} at {{.At}}. If you did not do this, change your password and contact your administrator at once."},
		KindAccountLocked:    {"Your Atrium account was locked", "After too many failed sign-in attempts the Atrium account {{.Username}} is locked until {{.Until}}. If this was not you, someone may be guessing your password: change it after the lock ends."},
		KindNotification:     {"{{.Subject}}", "{{.Body}}"},
		KindAuthenticatorOn:  {"Authenticator app turned on", "An authenticator app was set up for the Atrium account {{.Username}} at {{.At}}. Signing in now takes your password and a code from the app. Keep your recovery codes safe."},
		KindAuthenticatorOff: {"Authenticator app turned off", "The authenticator app was turned off for the Atrium account {{.Username}} at {{.At}}. If you did not do this, change your password and contact your administrator at once."},
		KindAccountDeleted:   {"Your Atrium account was deleted", "The MSP account {{.MSP}} was deleted at {{.At}}, and with it your Atrium account {{.Username}} and its data. This cannot be undone. If you did not expect this, contact the platform operator."},
	},
	"zh-CN": {
		KindCode:             {"Atrium 验证码", "您用于{{.Purpose}}的 Atrium 验证码是 {{.Code}}，{{.Minutes}} 分钟内有效。请勿告诉任何人，Atrium 工作人员不会向您索取验证码。如非本人操作，请忽略本消息。"},
		KindPasswordChanged:  {"您的 Atrium 密码已修改", "您的 Atrium 账号 {{.Username}} 的密码已于 {{.At}} 修改，其他会话已退出登录。{{if .NextChange}}下次修改密码时间为 {{.NextChange}} 之前。{{end}}如非本人操作，请立即重置密码并联系管理员。"},
		KindPasswordReset:    {"您的 Atrium 密码已重置", "您的 Atrium 账号 {{.Username}} 的密码已于 {{.At}} 通过验证码重置，所有会话已退出登录。{{if .NextChange}}下次修改密码时间为 {{.NextChange}} 之前。{{end}}如非本人操作，请立即联系管理员。"},
		KindPasswordReminder: {"您的 Atrium 密码即将过期", "您的 Atrium 账号 {{.Username}} 的密码将于 {{.ExpiresAt}} 过期，请在此之前登录并在个人中心修改密码。"},
		KindUsernameChanged:  {"您的 Atrium 用户名已修改", "您的 Atrium 账号用户名已于 {{.At}} 由 {{.Old}} 修改为 {{.New}}，请使用新用户名登录。如非本人操作，请立即联系管理员。"},
		KindEmailLinked:      {"邮箱已绑定 Atrium 账号", "此邮箱已于 {{.At}} 绑定 Atrium 账号 {{.Username}}，验证码和通知将发送到此邮箱。"},
		KindEmailChangedOld:  {"您的 Atrium 账号邮箱已更换", "Atrium 账号 {{.Username}} 的邮箱已于 {{.At}} 更换为 {{.New}}，此邮箱将不再接收其验证码和通知。如非本人操作，请立即联系管理员。"},
		KindEmailUnlinked:    {"邮箱已与 Atrium 账号解绑", "此邮箱已于 {{.At}} 与 Atrium 账号 {{.Username}} 解绑。如非本人操作，请立即联系管理员。"},
		KindPhoneLinked:      {"手机号已绑定", "【Atrium】此手机号已于 {{.At}} 绑定账号 {{.Username}}。"},
		KindPhoneChangedOld:  {"手机号已更换", "【Atrium】账号 {{.Username}} 的手机号已于 {{.At}} 更换为 {{.New}}。如非本人操作，请联系管理员。"},
		KindPhoneUnlinked:    {"手机号已解绑", "【Atrium】此手机号已于 {{.At}} 与账号 {{.Username}} 解绑。如非本人操作，请联系管理员。"},
		KindTwoFactorOn:      {"双因子认证已开启", "Atrium 账号 {{.Username}} 已于 {{.At}} 开启双因子认证，登录时需要输入密码和短信验证码。"},
		KindTwoFactorOff:     {"双因子认证已关闭", "Atrium 账号 {{.Username}} 已于 {{.At}} 关闭双因子认证。如非本人操作，请立即修改密码并联系管理员。"},
		KindAccountLocked:    {"您的 Atrium 账号已锁定", "由于登录失败次数过多，Atrium 账号 {{.Username}} 已锁定至 {{.Until}}。如非本人操作，可能有人在尝试猜测您的密码，请在锁定结束后修改密码。"},
		KindNotification:     {"{{.Subject}}", "{{.Body}}"},
		KindAuthenticatorOn:  {"身份验证器应用已开启", "Atrium 账号 {{.Username}} 已于 {{.At}} 设置身份验证器应用，登录时需要输入密码和应用中的验证码。请妥善保存恢复码。"},
		KindAuthenticatorOff: {"身份验证器应用已关闭", "Atrium 账号 {{.Username}} 已于 {{.At}} 关闭身份验证器应用。如非本人操作，请立即修改密码并联系管理员。"},
		KindAccountDeleted:   {"您的 Atrium 账号已注销", "MSP 账号 {{.MSP}} 已于 {{.At}} 注销，您的 Atrium 账号 {{.Username}} 及其数据也随之删除，且无法恢复。如有疑问，请联系平台运营方。"},
	},
}

// purposes are the words a code message uses for what the code is for.
var purposes = map[string]map[string]string{
	"en": {
		"username": "change your username", "email": "verify your identity", "phone": "verify your identity",
		"password": "change your password", "two_factor": "change dual-factor authentication", "delete_account": "delete your MSP account",
		"link_email": "link this email address", "link_phone": "link this phone number", "login": "sign in", "recovery": "reset your password",
	},
	"zh-CN": {
		"username": "修改用户名", "email": "身份验证", "phone": "身份验证",
		"password": "修改密码", "two_factor": "设置双因子认证", "delete_account": "注销 MSP 账号",
		"link_email": "绑定此邮箱", "link_phone": "绑定此手机号", "login": "登录", "recovery": "重置密码",
	},
}

var htmlLayout = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><title>{{.Subject}}</title></head>
<body style="margin:0;padding:24px;background:#f4f6f8;font-family:-apple-system,'Segoe UI',Roboto,'PingFang SC','Microsoft YaHei',sans-serif;color:#1d2129">
<table role="presentation" width="100%" style="max-width:560px;margin:0 auto;background:#fff;border:1px solid #dfe3e8;border-radius:6px">
<tr><td style="padding:16px 24px;border-bottom:1px solid #dfe3e8;font-weight:600;font-size:16px">Atrium</td></tr>
<tr><td style="padding:24px;font-size:14px;line-height:1.6">{{range .Paragraphs}}<p style="margin:0 0 12px">{{.}}</p>{{end}}{{with .Code}}<p style="font-size:28px;letter-spacing:6px;font-weight:700;margin:16px 0">{{.}}</p>{{end}}</td></tr>
</table></body></html>`))

// render returns the subject, text and HTML of a message kind in lang (English
// when the language is unknown).
func render(kind, lang string, data map[string]string) (subject, text, html string, err error) {
	msgs, ok := catalog[lang]
	if !ok {
		lang, msgs = "en", catalog["en"]
	}
	e, ok := msgs[kind]
	if !ok {
		return "", "", "", fmt.Errorf("notify: no message of kind %q", kind)
	}
	if kind == KindCode {
		d := make(map[string]string, len(data)+1)
		for k, v := range data {
			d[k] = v
		}
		if p, ok := purposes[lang][data["Purpose"]]; ok {
			d["Purpose"] = p
		}
		data = d
	}
	exec := func(src string) (string, error) {
		t, err := texttemplate.New("").Option("missingkey=zero").Parse(src)
		if err != nil {
			return "", err
		}
		var b bytes.Buffer
		err = t.Execute(&b, data)
		return b.String(), err
	}
	if subject, err = exec(e.Subject); err != nil {
		return "", "", "", err
	}
	if text, err = exec(e.Text); err != nil {
		return "", "", "", err
	}
	subject = strings.NewReplacer("\r", " ", "\n", " ").Replace(subject)
	var b bytes.Buffer
	code := ""
	if kind == KindCode {
		code = data["Code"]
	}
	err = htmlLayout.Execute(&b, map[string]any{"Lang": lang, "Subject": subject, "Paragraphs": strings.Split(text, "\n\n"), "Code": code})
	return subject, text, b.String(), err
}
