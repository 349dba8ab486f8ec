package redact

import (
	"slices"
	"testing"
)

func TestSecretDefaults(t *testing.T) {
	secrets := []string{
		// headers
		"Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Api-Key", "X-Auth-Token",
		"X-Auth-Key", "X-Access-Key", "Ocp-Apim-Subscription-Key", "X-Functions-Key", "X-Amz-Security-Token",
		"x-api-key", "X-Webhook-Secret", "X-Hub-Signature-256", "X-CSRF-Token",
		// query keys
		"token", "access_token", "api_key", "apikey", "key", "password", "secret", "client_secret",
		"clientSecret", "accessToken", "auth_token", "passwd", "api-key", "signature", "sig",
		"X-Amz-Signature", "X-Amz-Credential", "X-Goog-Signature", "AWSAccessKeyId", "auth",
		// body keys
		"CLIENT_SECRET", "client-secret", "refresh_token", "id_token", "APIKey", "APIKEY", "x_api_key",
		"pwd", "pass", "user_pass", "passphrase", "pin", "pinCode", "card_pin", "cardNumber", "card-number",
		"cvv", "CVC", "ssn", "customer_ssn", "iban", "security_code", "socialSecurityNumber", "privateKey",
		"PRIVATE_KEY", "subscriptionKey", "credentials", "session_id", "sessionId", "password2", "token_2",
		"db.password", "pass\x00word_x", "otp", "jwt",
	}
	notSecrets := []string{
		"className", "max_tokens", "business_name", "shipping", "passenger", "keyboard", "monkey",
		"sort_order", "tokenizer", "bypass", "spinner", "tokens", "cache_key", "keys", "primary_key_id",
		"card", "number", "private", "token_type", "TokenType", "signed", "session_count", "", "-", "é",
		"compass", "passport", "pinned", "cvvs", "address_number", "class-name", "code", "x_key_y_z",
	}
	r := Standard()
	for _, name := range secrets {
		if !r.Secret(name) {
			t.Errorf("Secret(%q) = false; want true", name)
		}
	}
	for _, name := range notSecrets {
		if r.Secret(name) {
			t.Errorf("Secret(%q) = true; want false", name)
		}
	}
}

func TestSecretConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		yes  []string
		no   []string
	}{
		{"words join across separators", Config{Words: []string{"API-key"}},
			[]string{"apiKey", "api_key", "X-API-KEY", "apikey", "my.api.key.id"}, []string{"api", "key", "rapikey", "apikeys"}},
		{"names match whole names only", Config{Names: []string{"key", "sig"}},
			[]string{"key", "KEY", "_key_", "Sig"}, []string{"keyboard", "monkey", "api_key", "sigs", "x_sig"}},
		{"allow wins", Config{Words: []string{"token"}, Names: []string{"key"}, Allow: []string{"Token-Type", "KEY"}},
			[]string{"access_token", "tokenType2"}, []string{"token_type", "tokenType", "key"}},
		{"empty entries ignored", Config{Words: []string{"", "  ", "-"}, Names: []string{""}}, nil, []string{"", "a", "x-y"}},
		{"camel case and acronyms", Config{Words: []string{"http_request"}},
			[]string{"XMLHttpRequest", "http-request", "HTTPRequest"}, []string{"httprequests", "XMLHttpRequests"}},
		{"digits are words", Config{Words: []string{"oauth2"}}, []string{"oauth2", "OAuth2Token", "oauth_2"}, []string{"oauth22", "oauth"}},
		{"non-ASCII letters join words", Config{Words: []string{"mot_de_passe", "clé"}}, []string{"motDePasse", "Clé", "la_clé"}, []string{"clés"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(tt.cfg)
			for _, name := range tt.yes {
				if !r.Secret(name) {
					t.Errorf("Secret(%q) = false; want true", name)
				}
			}
			for _, name := range tt.no {
				if r.Secret(name) {
					t.Errorf("Secret(%q) = true; want false", name)
				}
			}
		})
	}
}

func TestDefaultFreshSlices(t *testing.T) {
	a := Default()
	a.Words[0], a.Names[0], a.Allow[0] = "x", "x", "x"
	b := Default()
	if b.Words[0] == "x" || b.Names[0] == "x" || b.Allow[0] == "x" {
		t.Errorf("Default() = %v; want fresh slices", b)
	}
	cfg := Default()
	r := New(cfg)
	cfg.Words = slices.DeleteFunc(cfg.Words, func(w string) bool { return w == "token" })
	if !r.Secret("token") {
		t.Error("New kept a reference to cfg")
	}
	if first, again := Standard(), Standard(); first != again {
		t.Error("Standard() built twice")
	}
}

func TestSecretNoAlloc(t *testing.T) {
	r := Standard()
	if n := testing.AllocsPerRun(100, func() {
		_ = r.Secret("X-Partner-Api-Key") || r.Secret("business_name") || r.Secret("XMLHttpRequest")
		_ = r.Secret("X-Partner-Service-Name-With-A-Long-Suffix-Here-And-More")
		_ = secret(r, []byte("client_secret"))
	}); n != 0 {
		t.Errorf("Secret allocates %v times; want 0", n)
	}
}
