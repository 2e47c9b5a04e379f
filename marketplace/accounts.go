package marketplace

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// NewAccount is what a seller or buyer gives to sign up.
type NewAccount struct {
	Username    string // unique among sellers (or buyers); 1–64 bytes
	DisplayName string // default Username
	Email       string
	Password    string // not empty
}

func (a *NewAccount) validate() error {
	if a.Username == "" || len(a.Username) > 64 {
		return fmt.Errorf("%w: username %q must have 1 to 64 bytes", ErrInvalid, a.Username)
	}
	if a.Password == "" {
		return fmt.Errorf("%w: empty password", ErrInvalid)
	}
	if a.DisplayName == "" {
		a.DisplayName = a.Username
	}
	if len(a.DisplayName) > 128 || len(a.Email) > 255 {
		return fmt.Errorf("%w: display name or email too long", ErrInvalid)
	}
	return nil
}

// CreateSeller opens a seller account; ErrUsernameTaken if the username is
// in use by another seller.
func (s *Store) CreateSeller(ctx context.Context, a NewAccount) (SellerID, error) {
	id, err := s.createAccount(ctx, "sellers", a)
	return SellerID(id), err
}

// SellerLogin checks a seller's password; ErrBadCredentials if the username
// is unknown or the password wrong.
func (s *Store) SellerLogin(ctx context.Context, username, password string) (SellerID, error) {
	id, err := s.login(ctx, "sellers", username, password)
	return SellerID(id), err
}

// CreateBuyer opens a buyer account; ErrUsernameTaken if the username is
// in use by another buyer.
func (s *Store) CreateBuyer(ctx context.Context, a NewAccount) (BuyerID, error) {
	id, err := s.createAccount(ctx, "buyers", a)
	return BuyerID(id), err
}

// BuyerLogin checks a buyer's password; ErrBadCredentials if the username
// is unknown or the password wrong.
func (s *Store) BuyerLogin(ctx context.Context, username, password string) (BuyerID, error) {
	id, err := s.login(ctx, "buyers", username, password)
	return BuyerID(id), err
}

func (s *Store) createAccount(ctx context.Context, table string, a NewAccount) (int64, error) {
	if err := a.validate(); err != nil {
		return 0, err
	}
	hash, err := hashPassword(a.Password, s.opts.PasswordIterations, s.opts.Entropy)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.do(ctx, func() error {
		q, args := s.q("INSERT INTO "+table+" ([[region, ]]username, display_name, email, password_hash, created_at) VALUES ([[@, ]]?, ?, ?, ?, ?)",
			a.Username, a.DisplayName, a.Email, hash, sqlTime(s.now()))
		res, err := s.db.ExecContext(ctx, q, args...)
		if err != nil {
			return err
		}
		id, err = res.LastInsertId()
		return err
	})
	if isDuplicate(err) {
		return 0, fmt.Errorf("%w: %s %q", ErrUsernameTaken, strings.TrimSuffix(table, "s"), a.Username)
	}
	if err != nil {
		return 0, fmt.Errorf("marketplace: creating %s %q: %w", strings.TrimSuffix(table, "s"), a.Username, err)
	}
	return id, nil
}

func (s *Store) login(ctx context.Context, table, username, password string) (int64, error) {
	var (
		id   int64
		hash string
	)
	err := s.do(ctx, func() error {
		q, args := s.q("SELECT id, password_hash FROM "+table+" WHERE [[region = @ AND ]]username = ?", username)
		return s.db.QueryRowContext(ctx, q, args...).Scan(&id, &hash)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrBadCredentials
	}
	if err != nil {
		return 0, fmt.Errorf("marketplace: logging in %q: %w", username, err)
	}
	if !checkPassword(hash, password) {
		return 0, ErrBadCredentials
	}
	return id, nil
}

// Password hashes are "pbkdf2-sha256$ITERATIONS$SALT$KEY", SALT (16 bytes)
// and KEY (32 bytes) in unpadded base64.
const hashScheme = "pbkdf2-sha256"

func hashPassword(password string, iterations int, entropy io.Reader) (string, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(entropy, salt); err != nil {
		return "", fmt.Errorf("marketplace: salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, password, salt, iterations, 32)
	if err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%s$%d$%s$%s", hashScheme, iterations, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != hashScheme {
		return false
	}
	iterations, err := strconv.Atoi(parts[1])
	if err != nil || iterations <= 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[2])
	want, err2 := b64.DecodeString(parts[3])
	if err1 != nil || err2 != nil {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, salt, iterations, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
