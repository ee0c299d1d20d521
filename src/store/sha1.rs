//! SHA-1 (FIPS 180-4) as a `const fn`, for one job: naming each Lua script
//! the way Redis names its cached scripts, at compile time. With that name
//! the component runs a script with `EVALSHA` and sends neither the text
//! nor any hashing work per request: not to Redis, which would otherwise
//! hash the whole text on every `EVAL`, and not to the guest either.
//!
//! Nothing here is about security: Redis uses SHA-1 as a cache key.

/// The initial hash value, H(0) in FIPS 180-4 section 5.3.1.
const INITIAL: [u32; 5] = [
    0x6745_2301,
    0xefcd_ab89,
    0x98ba_dcfe,
    0x1032_5476,
    0xc3d2_e1f0,
];

/// The SHA-1 of `message` as 40 lowercase hex digits, the form `SCRIPT
/// LOAD` returns and `EVALSHA` takes.
pub const fn hex_digest(message: &[u8]) -> [u8; 40] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let digest = digest(message);
    let mut out = [0u8; 40];
    let mut i = 0;
    while i < 20 {
        out[2 * i] = DIGITS[(digest[i] >> 4) as usize];
        out[2 * i + 1] = DIGITS[(digest[i] & 0x0f) as usize];
        i += 1;
    }
    out
}

/// The SHA-1 of `message`: 20 bytes.
pub const fn digest(message: &[u8]) -> [u8; 20] {
    // The padded message: the bytes, 0x80, zeros, the length in bits as a
    // 64-bit big-endian number, to a multiple of 64 bytes (section 5.1.1).
    let padded_len = (message.len() + 9).div_ceil(64) * 64;
    let mut state = INITIAL;
    let mut block = 0;
    while block < padded_len {
        state = compress(state, message, block, padded_len);
        block += 64;
    }
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 5 {
        let bytes = state[i].to_be_bytes();
        out[4 * i] = bytes[0];
        out[4 * i + 1] = bytes[1];
        out[4 * i + 2] = bytes[2];
        out[4 * i + 3] = bytes[3];
        i += 1;
    }
    out
}

/// Byte `at` of `message` padded to `padded_len` bytes.
const fn padded_byte(message: &[u8], at: usize, padded_len: usize) -> u8 {
    if at < message.len() {
        message[at]
    } else if at == message.len() {
        0x80
    } else if at >= padded_len - 8 {
        let bits = (message.len() as u64) * 8;
        (bits >> (8 * (padded_len - 1 - at))) as u8
    } else {
        0
    }
}

/// Processes the 64-byte block of the padded message starting at byte
/// `start` (section 6.1.2).
const fn compress(state: [u32; 5], message: &[u8], start: usize, padded_len: usize) -> [u32; 5] {
    // The message schedule W(0) .. W(79).
    let mut w = [0u32; 80];
    let mut t = 0;
    while t < 16 {
        let at = start + 4 * t;
        w[t] = u32::from_be_bytes([
            padded_byte(message, at, padded_len),
            padded_byte(message, at + 1, padded_len),
            padded_byte(message, at + 2, padded_len),
            padded_byte(message, at + 3, padded_len),
        ]);
        t += 1;
    }
    while t < 80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
        t += 1;
    }

    let [mut a, mut b, mut c, mut d, mut e] = state;
    t = 0;
    while t < 80 {
        // The functions f(t) and constants K(t) of sections 4.1.1 and 4.2.1.
        let (f, k) = if t < 20 {
            ((b & c) | (!b & d), 0x5a82_7999)
        } else if t < 40 {
            (b ^ c ^ d, 0x6ed9_eba1)
        } else if t < 60 {
            ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc)
        } else {
            (b ^ c ^ d, 0xca62_c1d6)
        };
        let temp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(w[t]);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = temp;
        t += 1;
    }
    [
        state[0].wrapping_add(a),
        state[1].wrapping_add(b),
        state[2].wrapping_add(c),
        state[3].wrapping_add(d),
        state[4].wrapping_add(e),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(message: &[u8]) -> String {
        String::from_utf8(hex_digest(message).to_vec()).unwrap()
    }

    /// The vectors of FIPS 180-4's examples (NIST CSRC) and the empty message.
    #[test]
    fn known_test_vectors() {
        assert_eq!(hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "a49b2446a02c645bf419f995b67091253a04a259"
        );
        assert_eq!(
            hex(b"The quick brown fox jumps over the lazy dog"),
            "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"
        );
    }

    /// A million `a`s (FIPS 180-2's long example): 15,625 blocks, and a
    /// length that needs more than one byte of the length field.
    #[test]
    fn a_million_a() {
        let message = vec![b'a'; 1_000_000];
        assert_eq!(hex(&message), "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    }

    /// Every length around the block and padding boundaries (55, 56, 63,
    /// 64 bytes ...), and multi-block inputs, against the `sha1` crate.
    #[test]
    fn agrees_with_the_sha1_crate_on_every_length_up_to_1100_bytes() {
        use sha1::{Digest, Sha1};
        let message: Vec<u8> = (0..1100u32).map(|i| (i * 31 % 251) as u8).collect();
        for len in 0..=message.len() {
            let expected: [u8; 20] = Sha1::digest(&message[..len]).into();
            assert_eq!(digest(&message[..len]), expected, "length {len}");
        }
    }
}
