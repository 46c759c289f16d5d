"""``Vtpm``: the TPM that seals the wallet key, with the FlareTrade ``Vtpm`` methods."""

from __future__ import annotations

import atexit
import base64
import binascii
import logging
import os
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn, Self, cast, overload

from flare_wallet import _native
from flare_wallet._attestation import _pem
from flare_wallet._attestation import verify_attestation as _verify
from flare_wallet._confidential_space import ConfidentialSpaceTokens
from flare_wallet._remote import SIGNER_PREFIX, RemoteWallet
from flare_wallet.exceptions import AttestationError, KeyExportForbidden, WalletError

__all__ = ["Vtpm", "default_state_dir"]

ROOTS_ENV = "FLARE_WALLET_TPM_ROOTS"
"""The environment variable naming the TPM trust roots (a PEM bundle or a folder)."""

logger = logging.getLogger("flare_wallet")

STATE_DIR_ENV = "FLARE_WALLET_STATE_DIR"
TPM_ENV = "FLARE_WALLET_TPM"


def default_state_dir() -> Path:
    """``$FLARE_WALLET_STATE_DIR``, else ``$XDG_STATE_HOME/flare-wallet`` (by default
    ``~/.local/state/flare-wallet``)."""
    if os.environ.get(STATE_DIR_ENV):
        return Path(os.environ[STATE_DIR_ENV])
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "flare-wallet"


# Every open Vtpm, so that interpreter exit stops the swtpm children still running.
_open_vtpms: weakref.WeakSet[Vtpm] = weakref.WeakSet()
_open_lock = threading.Lock()


@atexit.register
def _close_open_vtpms() -> None:
    with _open_lock:
        vtpms = list(_open_vtpms)
    for vtpm in vtpms:
        vtpm.close()


def _start_simulator(
    state_dir: str | os.PathLike[str] | None, tpm_dir: Path | None, new_ek: bool = False
) -> tuple[_native.TpmWallet, tuple[Path, ...]]:
    """A private swtpm and the wallet on it, with the temporary directories to remove."""
    owned: list[Path] = []
    if state_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="flare-wallet-state-"))
        owned.append(scratch)
        directory = scratch / "wallet"
    else:
        directory = Path(state_dir)
    try:
        native = _native.TpmWallet.simulator(tpm_dir, directory, new_ek)
    except BaseException:
        for path in owned:
            shutil.rmtree(path, ignore_errors=True)
        raise
    logger.warning(
        "Vtpm.simulator(): swtpm pid %s is a SOFTWARE TPM (its seeds are files in %s): "
        "for tests and demos only",
        native.simulator_pid,
        tpm_dir if tpm_dir is not None else "a temporary directory",
    )
    return native, tuple(owned)


def _key_bytes(key: str | bytes | bytearray) -> bytes:
    if isinstance(key, bytes | bytearray):
        raw = bytes(key)
    elif isinstance(key, str):
        text = key[2:] if key[:2] in ("0x", "0X") else key
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise WalletError("a private key is 64 hex digits, with or without 0x") from None
    else:
        raise WalletError(f"a private key is hex text or 32 bytes, not {type(key).__name__}")
    if len(raw) != 32:
        raise WalletError("a private key is 32 bytes (64 hex digits)")
    return raw


def _roots_argument(
    trust_roots: bytes | str | os.PathLike[str] | None,
) -> bytes | str | None:
    """Trust roots as the core takes them: PEM bytes, PEM text or a path (file or
    folder); None leaves them to ``$FLARE_WALLET_TPM_ROOTS``."""
    if trust_roots is None or isinstance(trust_roots, bytes):
        return trust_roots
    if isinstance(trust_roots, bytearray | memoryview):
        return bytes(trust_roots)
    if isinstance(trust_roots, str | os.PathLike):
        return os.fspath(trust_roots)
    raise WalletError(
        "trust_roots must be PEM bytes, PEM text or the path of a PEM file or folder, "
        f"not {type(trust_roots).__name__}"
    )


def _tpm_configured() -> bool:
    return bool(os.environ.get(TPM_ENV)) or Path("/dev/tpmrm0").exists()


class Vtpm(ConfidentialSpaceTokens):
    """A TPM 2.0 and the wallet state directory the sealed account lives in, and the
    client of the Confidential Space launcher's attestation tokens.

    ``tcti`` names the TPM in tpm2-tss syntax: ``device:/dev/tpmrm0``,
    ``swtpm:host=127.0.0.1,port=2321`` or ``swtpm:path=/run/swtpm.sock``; or
    ``signer:path=/run/flare-wallet/signer.ipc`` for the account of a running
    ``flare-wallet-signer`` service (see :mod:`flare_wallet._remote`; also taken from
    ``$FLARE_WALLET_TPM``). Without it,
    ``$FLARE_WALLET_TPM`` is used, then ``/dev/tpmrm0`` if present; otherwise the
    constructor raises :class:`TpmError` naming both. ``state_dir`` defaults to
    :func:`default_state_dir`. A software TPM is never chosen silently: use
    :meth:`Vtpm.simulator` for one, or ``simulate=True``.

    The TPM must prove itself: its EK certificate must chain to ``trust_roots`` (PEM
    bytes or text, or the path of a PEM file or of a folder of certificates: the TPM
    vendor's EK CA, or Google's for a GCE vTPM; ``$FLARE_WALLET_TPM_ROOTS`` when None)
    and certify the TPM's endorsement key. A TPM with no EK certificate, or one that
    fails the chain, raises :class:`TpmError` unless ``allow_unverified_tpm=True``
    (**insecure**: nothing then authenticates the TPM, so a fake TPM or an interposer
    can read the keys; accounts created so record it and their evidence says
    "unverified TPM"). A simulator is certified by its own local CA and opened with it.

    Attestation tokens (:meth:`get_token`, upstream's ``Vtpm`` client) come from the
    launcher's teeserver: over ``unix_socket_path`` (default
    ``/run/container_launcher/teeserver.sock``) or, given only ``url``, over TCP to it.
    ``simulate=True`` makes simulated tokens (logged loudly, refused by production
    validators) and, when no TPM is configured (no ``tcti``, ``$FLARE_WALLET_TPM`` or
    ``/dev/tpmrm0``), starts a private swtpm as :meth:`simulator` does: its seeds are
    kept beside a given ``state_dir`` (``<state_dir>.simulated-tpm``), so the account
    unseals again on the next run; without ``state_dir`` both are temporary.
    """

    def __init__(
        self,
        tcti: str | None = None,
        *,
        state_dir: str | os.PathLike[str] | None = None,
        url: str | None = None,
        unix_socket_path: str | None = None,
        simulate: bool = False,
        trust_roots: bytes | str | os.PathLike[str] | None = None,
        allow_unverified_tpm: bool = False,
    ):
        connection = tcti if tcti is not None else os.environ.get(TPM_ENV, "")
        if connection.startswith(SIGNER_PREFIX):
            # The signing service holds the TPM and the account (flare_wallet._remote).
            remote = cast(_native.TpmWallet, RemoteWallet(connection))
            self._init(remote, (), url=url, unix_socket_path=unix_socket_path, simulate=simulate)
            return
        if simulate and tcti is None and not _tpm_configured():
            tpm_dir = None
            if state_dir is not None:
                wallet_dir = Path(state_dir)
                tpm_dir = wallet_dir.with_name(wallet_dir.name + ".simulated-tpm")
                tpm_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            native, owned = _start_simulator(state_dir, tpm_dir)
            self._init(native, owned, url=url, unix_socket_path=unix_socket_path, simulate=True)
            return
        directory = Path(state_dir) if state_dir is not None else default_state_dir()
        if allow_unverified_tpm:
            logger.warning(
                "Vtpm(allow_unverified_tpm=True): a TPM without a verified EK certificate is "
                "accepted; a fake TPM or an interposer could read the keys sealed through it"
            )
        self._init(
            _native.TpmWallet.open(
                tcti,
                directory,
                trust_roots=_roots_argument(trust_roots),
                allow_unverified_tpm=allow_unverified_tpm,
            ),
            owned_dirs=(),
            url=url,
            unix_socket_path=unix_socket_path,
            simulate=simulate,
        )

    def _init(
        self,
        native: _native.TpmWallet,
        owned_dirs: tuple[Path, ...],
        *,
        url: str | None = None,
        unix_socket_path: str | None = None,
        simulate: bool = False,
    ) -> None:
        self._init_token_client(url=url, unix_socket_path=unix_socket_path, simulate=simulate)
        self._native = native
        # The trust anchor verify_attestation() checks its own evidence against:
        # the roots and the enrollment record of the last enroll().
        self._trust_roots: bytes | None = None
        self._enrollment: bytes | None = None
        # Temporary directories go when the Vtpm is closed, or collected unclosed.
        self._cleanups = [
            weakref.finalize(self, shutil.rmtree, path, ignore_errors=True) for path in owned_dirs
        ]
        with _open_lock:
            _open_vtpms.add(self)

    @classmethod
    def simulator(
        cls,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        tpm_state_dir: str | os.PathLike[str] | None = None,
        new_ek: bool = False,
    ) -> Vtpm:
        """Start a private ``swtpm`` (a software TPM) and open it.

        The wallet state goes to ``state_dir`` (a temporary directory when None); the
        simulated TPM keeps its own state, its seeds, in ``tpm_state_dir`` (a temporary
        directory when None, so each call has its own storage seed). Temporary
        simulators of one process share one certified endorsement key (so one
        attestation key) unless ``new_ek=True`` provisions an EK and certificate of
        its own, about a second more. The child is stopped by
        :meth:`close`, at context exit and at interpreter exit. Requires the Debian
        package ``swtpm``.
        """
        tpm_dir = Path(tpm_state_dir) if tpm_state_dir is not None else None
        native, owned = _start_simulator(state_dir, tpm_dir, new_ek)
        vtpm = cls.__new__(cls)
        vtpm._init(native, owned)
        return vtpm

    # ------------------------------------------------------------ properties

    @property
    def tcti(self) -> str:
        """The TCTI string of this TPM."""
        return self._native.tcti

    @property
    def state_dir(self) -> Path:
        """The wallet state directory (the sealed account file lives here)."""
        return self._native.state_dir

    @property
    def is_simulator(self) -> bool:
        """Whether this is a private swtpm started by :meth:`simulator`."""
        return self._native.simulator_pid is not None

    @property
    def tpm_verified(self) -> bool:
        """Whether the TPM proved itself through its EK certificate chain (False: an
        unverified TPM, accepted because ``allow_unverified_tpm=True`` was given)."""
        return bool(self._native.tpm_verified)

    @property
    def simulator_trust_roots(self) -> Path | None:
        """The PEM file of the local CA that certified a :meth:`simulator`'s EK: the
        simulator's trust roots. None for other TPMs. The file is removed with the
        simulator's temporary directory when the Vtpm closes: copy its bytes to keep them."""
        return self._native.simulator_trust_roots

    @property
    def simulator_pid(self) -> int | None:
        """The process id of the private swtpm, for a :meth:`simulator` Vtpm."""
        return self._native.simulator_pid

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed

    @property
    def address(self) -> str | None:
        """The checksummed address of the sealed account, once one is loaded."""
        return self._native.address

    # ------------------------------------------------------------ FlareTrade methods

    def store_key(self, key: str | bytes) -> bool:
        """Seal an existing private key (hex, with or without ``0x``, or 32 bytes) as the
        account of this TPM and state directory. Returns True."""
        self._native.import_key(_key_bytes(key))
        return True

    def retrieve_key(self) -> NoReturn:
        """Always refuses: the key is unsealed only inside the signing core."""
        raise KeyExportForbidden(
            "the private key never leaves the signing core: sign with "
            "SecureWalletManager.sign_transaction / sign_message instead, and use "
            "backup_wallet() for a TPM-bound backup"
        )

    def enroll(
        self,
        trust_roots: bytes | str | os.PathLike[str] | None = None,
        *,
        ek_certificate: bytes | None = None,
    ) -> bytes:
        """Enroll this TPM's attestation key: the EK certificate (``ek_certificate``,
        DER, or the one the TPM keeps in NV) must chain to ``trust_roots`` (PEM bytes,
        text or a file path; ``$FLARE_WALLET_TPM_ROOTS`` when None) and certify the
        TPM's EK; a credential wrapped to that EK for the AK is then activated by the
        TPM. Returns the enrollment record (bytes) a verifier stores and passes to
        :func:`flare_wallet.verify_attestation`; :meth:`verify_attestation` uses it
        from then on. Raises :class:`AttestationError` when no roots are given."""
        if trust_roots is None:
            configured = os.environ.get(ROOTS_ENV)
            if not configured:
                raise AttestationError(
                    f"enroll() needs TPM trust roots: pass trust_roots or set ${ROOTS_ENV}"
                )
            trust_roots = configured
        roots = _pem(trust_roots, "trust_roots")
        record = self._native.enroll(roots, ek_certificate)
        self._trust_roots = roots
        self._enrollment = bytes(record)
        return self._enrollment

    def enroll_platform_ak(
        self,
        trust_roots: bytes | str | os.PathLike[str],
        *,
        ak_intermediates: Sequence[bytes] = (),
    ) -> bytes:
        """Enroll the attestation key the platform certifies (GCE Shielded VM: the AK
        template and certificate the platform wrote into NV, as
        ``attest(..., platform_ak=True)`` uses): no credential activation, the AK
        certificate is the proof. Returns the enrollment record (bytes, method "AK
        certificate") a verifier stores and passes to
        :func:`flare_wallet.verify_attestation` with evidence quoted by that AK. It
        carries the AK certificate with ``ak_intermediates`` (DER) and the EK verified
        at open with its chain, and is checked against ``trust_roots`` (PEM bytes, text
        or a file path) first: they must hold the platform's AK CA, and the EK's root
        when the TPM was verified. The wallet's own enrollment (:meth:`enroll`) is
        left as it is."""
        roots = _pem(trust_roots, "trust_roots")
        record = self._native.enroll_platform_ak(roots, [bytes(c) for c in ak_intermediates])
        return bytes(record)

    def endorsement_keys(
        self, trust_roots: bytes | str | os.PathLike[str] | None = None
    ) -> list[dict[str, Any]]:
        """Verify every EK certificate this TPM holds at the indices of the TCG EK
        Credential Profile (L-1, L-2, H-1 to H-7), each on its own: its chain to
        ``trust_roots`` (PEM bytes or text, a PEM file or a folder;
        ``$FLARE_WALLET_TPM_ROOTS`` when None) and that the EK the TPM derives from the
        certificate's template is the certified key. Returns one dict per certificate,
        low range first: ``template`` (e.g. ``"L-1 RSA 2048"``), ``nv_index`` (int),
        ``verified`` (bool), ``ek_name`` (bytes when verified, else None) and ``error``
        (the refusal, naming the rule and the value, else None). One refusal does not
        hide the others; an empty list means the TPM holds no EK certificate. Sessions
        stay salted to the EK verified at open."""
        checks: list[dict[str, Any]] = self._native.endorsement_keys(_roots_argument(trust_roots))
        return checks

    @property
    def trust_roots(self) -> bytes | None:
        """The PEM trust roots of the last :meth:`enroll`, or None."""
        return self._trust_roots

    @property
    def enrollment(self) -> bytes | None:
        """The enrollment record of the last :meth:`enroll`, or None."""
        return self._enrollment

    def enrollment_request(self) -> dict[str, bytes | None]:
        """What a verifier needs to challenge this TPM: ``ek_public`` and ``ak_public``
        (``TPMT_PUBLIC`` bytes) and ``ek_certificate`` (DER, or None when the TPM keeps
        none)."""
        request: dict[str, bytes | None] = self._native.enrollment_request()
        return request

    def verify_attestation(self) -> bool:
        """Quote with a fresh nonce and verify the evidence against the trust roots and
        enrollment record of :meth:`enroll` (the enrollment chain, the enrolled AK, its
        signature over the quote, the nonce, the PCR selection and digest, the wallet's
        signature and the verified-TPM marker). False when it does not verify, when the
        AK was never enrolled (there is no trust-on-first-use) or no account is loaded;
        TPM failures raise :class:`TpmError`."""
        address = self._native.address
        if address is None:
            logger.warning("verify_attestation(): no account loaded, nothing to attest")
            return False
        if self._enrollment is None or self._trust_roots is None:
            logger.warning(
                "verify_attestation(): no trust anchor: enroll() the attestation key "
                "against the TPM trust roots first"
            )
            return False
        nonce = secrets.token_bytes(32)
        evidence = self._native.attest(nonce, 0)
        try:
            # The account file records whether the TPM was verified when the key was
            # created; an unverified one was an explicit choice of this wallet's
            # owner, so the self-check accepts it and says so.
            facts = _verify(
                evidence["evidence"],
                nonce,
                trust_roots=self._trust_roots,
                enrollment=self._enrollment,
                expected_address=address,
                accept_unverified_tpm=True,
            )
        except AttestationError as error:
            logger.warning("verify_attestation(): %s", error)
            return False
        if not facts["tpm_verified"]:
            logger.warning(
                "verify_attestation(): the account was created on an UNVERIFIED TPM "
                "(no verified EK certificate at creation)"
            )
        return True

    @overload
    def encrypt_data(self, data: str) -> str: ...
    @overload
    def encrypt_data(self, data: bytes) -> bytes: ...
    def encrypt_data(self, data: str | bytes) -> str | bytes:
        """Seal ``data`` to this TPM: a fresh data key sealed by the TPM encrypts and
        authenticates it. ``str`` in gives base64 ``str`` out; ``bytes`` in gives bytes."""
        if isinstance(data, str):
            blob = self._native.encrypt(data.encode("utf-8"))
            return base64.b64encode(blob).decode("ascii")
        if isinstance(data, bytes | bytearray | memoryview):
            return self._native.encrypt(bytes(data))
        raise WalletError(f"encrypt_data takes str or bytes, not {type(data).__name__}")

    @overload
    def decrypt_data(self, encrypted_data: str) -> str: ...
    @overload
    def decrypt_data(self, encrypted_data: bytes) -> bytes: ...
    def decrypt_data(self, encrypted_data: str | bytes) -> str | bytes:
        """Open data sealed by :meth:`encrypt_data` on this TPM (``str`` gives ``str``,
        bytes give bytes). Altered data raises :class:`WalletError`; another TPM's data
        raises :class:`TpmError`."""
        if isinstance(encrypted_data, str):
            try:
                blob = base64.b64decode(encrypted_data.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise WalletError("encrypted data is not base64 from encrypt_data()") from None
            plain = self._native.decrypt(blob)
            try:
                return plain.decode("utf-8")
            except UnicodeDecodeError:
                raise WalletError(
                    "the decrypted data is bytes, not text: pass the blob as bytes"
                ) from None
        if isinstance(encrypted_data, bytes | bytearray | memoryview):
            return self._native.decrypt(bytes(encrypted_data))
        raise WalletError(f"decrypt_data takes str or bytes, not {type(encrypted_data).__name__}")

    # ------------------------------------------------------------ life cycle

    def close(self) -> None:
        """Wipe any cached key, close the TPM connection and stop a private swtpm."""
        self._native.close()
        for cleanup in self._cleanups:
            cleanup()
        with _open_lock:
            _open_vtpms.discard(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        kind = "simulator" if self.is_simulator else "tpm"
        if self.closed:
            return f"Vtpm({kind}, closed)"
        return f"Vtpm({kind}, tcti={self.tcti!r}, state_dir={str(self.state_dir)!r})"
