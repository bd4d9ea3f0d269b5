/**
 * JSON syntax checked byte by byte as the bytes arrive, without building anything: a header that is
 * not JSON is refused at its first wrong byte, so memory follows what was actually parsed rather than
 * what a length field claims. (A 100,000,000-byte safetensors header of NULs after `{` was read whole,
 * copied into a string and handed to JSON.parse: 343 MB for a one-line refusal.)
 *
 * It accepts exactly the texts JSON.parse accepts after UTF-8 decoding (a leading byte-order mark is
 * skipped, as TextDecoder does), except that nesting is limited to 128 levels — the reference
 * safetensors implementation's serde_json refuses deeper headers too. Bytes ≥ 0x80 inside strings are
 * left to the UTF-8 check that follows.
 */

/** serde_json's default recursion limit, which huggingface/safetensors inherits. */
export const MAX_JSON_DEPTH = 128;

const enum S {
  Value, ValueOrClose, KeyOrClose, Key, Colon, AfterValue, Str, StrEscape, StrHex,
  Minus, Zero, Int, Dot, Frac, Exp, ExpSign, ExpDigits, Literal, Done,
}

const isWs = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
const isHex = (b: number) => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const ESCAPES = new Set([0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74, 0x75]);
const BOM = [0xef, 0xbb, 0xbf];

export class JsonSyntax {
  private state = S.Value;
  /** '{' or '[' per open container. */
  private readonly stack = new Uint8Array(MAX_JSON_DEPTH);
  private depth = 0;
  /** Byte position in the whole text of the next byte fed (for messages). */
  private pos = 0;
  private hexLeft = 0;
  private literal = '';
  private literalAt = 0;
  private keyString = false;
  private bomAt = 0;

  /**
   * `member`: a sticky pattern for the object member a caller expects most (name, `:`, value, then the
   * `,` or `}` after it), matched only by valid JSON: where it matches, the member is skipped whole by
   * native code rather than walked byte by byte (a safetensors header is 100,000 such members).
   */
  constructor(private readonly member?: RegExp) {}

  /** Checks the next bytes; returns why the text is not JSON, or undefined while it still may be. */
  feed(bytes: Uint8Array): string | undefined {
    const n = bytes.length;
    let i = 0;
    while (this.pos < 3 && this.bomAt === this.pos && i < n && bytes[i] === BOM[this.pos]) { this.bomAt++; this.pos++; i++; }
    const base = this.pos - i;
    const member = this.member;
    let text: string | undefined;
    scan: for (; i < n; i++) {
      let b = bytes[i];
      switch (this.state) {
        case S.Str:
          // The common case, kept tight: plain string bytes.
          while (b !== 0x22 && b !== 0x5c && b >= 0x20 && ++i < n) b = bytes[i];
          if (i === n) break scan;
          if (b === 0x22) this.state = this.keyString ? S.Colon : this.afterValue();
          else if (b === 0x5c) this.state = S.StrEscape;
          else return this.unexpected(b, 'in a string', base + i);
          continue;
        case S.StrEscape:
          if (!ESCAPES.has(b)) return this.unexpected(b, 'after \\ in a string', base + i);
          if (b === 0x75) { this.state = S.StrHex; this.hexLeft = 4; } else this.state = S.Str;
          continue;
        case S.StrHex:
          if (!isHex(b)) return this.unexpected(b, 'in a \\u escape', base + i);
          if (--this.hexLeft === 0) this.state = S.Str;
          continue;
        case S.Literal:
          if (b !== this.literal.charCodeAt(this.literalAt)) return this.unexpected(b, `in \`${this.literal}\``, base + i);
          if (++this.literalAt === this.literal.length) this.state = this.afterValue();
          continue;
        case S.Minus:
          if (b === 0x30) this.state = S.Zero;
          else if (isDigit(b)) this.state = S.Int;
          else return this.unexpected(b, 'after -', base + i);
          continue;
        case S.Dot:
          if (!isDigit(b)) return this.unexpected(b, 'after a decimal point', base + i);
          this.state = S.Frac;
          continue;
        case S.Exp:
          if (b === 0x2b || b === 0x2d) this.state = S.ExpSign;
          else if (isDigit(b)) this.state = S.ExpDigits;
          else return this.unexpected(b, 'in an exponent', base + i);
          continue;
        case S.ExpSign:
          if (!isDigit(b)) return this.unexpected(b, 'in an exponent', base + i);
          this.state = S.ExpDigits;
          continue;
        case S.Int: case S.Frac: case S.ExpDigits: case S.Zero:
          if (this.state !== S.Zero) {
            while (isDigit(b) && ++i < n) b = bytes[i];
            if (i === n) break scan;
          }
          if (b === 0x2e && (this.state === S.Int || this.state === S.Zero)) { this.state = S.Dot; continue; }
          if ((b === 0x65 || b === 0x45) && this.state !== S.ExpDigits) { this.state = S.Exp; continue; }
          this.state = this.afterValue(); // the number ended: this byte is what follows it
          break;
        default:
          break;
      }
      if (isWs(b)) continue;
      if (member && b === 0x22 && (this.state === S.Key || this.state === S.KeyOrClose)) {
        text ??= Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
        member.lastIndex = i;
        if (member.test(text)) {
          // Continue at the `,` or `}` after the member's value.
          i = member.lastIndex - 2;
          this.state = S.AfterValue;
          continue;
        }
      }
      const why = this.structural(b, base + i);
      if (why) return why;
    }
    this.pos = base + n;
    return undefined;
  }

  /** After the last byte: why the text is incomplete, or undefined when it is one whole JSON value. */
  end(): string | undefined {
    if (this.state === S.Int || this.state === S.Zero || this.state === S.Frac || this.state === S.ExpDigits) this.state = this.afterValue();
    return this.state === S.Done ? undefined : `unexpected end of JSON at position ${this.pos}`;
  }

  /** A byte outside strings, numbers and literals, whitespace already skipped. */
  private structural(b: number, pos: number): string | undefined {
    switch (this.state) {
      case S.Value: case S.ValueOrClose:
        if (b === 0x5d && this.state === S.ValueOrClose) return this.close(0x5b, pos);
        return this.value(b, pos);
      case S.KeyOrClose: case S.Key:
        if (b === 0x7d && this.state === S.KeyOrClose) return this.close(0x7b, pos);
        if (b !== 0x22) return this.unexpected(b, 'where a property name was expected', pos);
        this.state = S.Str;
        this.keyString = true;
        return undefined;
      case S.Colon:
        if (b !== 0x3a) return this.unexpected(b, 'where `:` was expected', pos);
        this.state = S.Value;
        return undefined;
      case S.AfterValue: {
        const top = this.stack[this.depth - 1];
        if (b === 0x2c && top === 0x7b) { this.state = S.Key; return undefined; }
        if (b === 0x2c && top === 0x5b) { this.state = S.Value; return undefined; }
        if (b === 0x7d && top === 0x7b) return this.close(0x7b, pos);
        if (b === 0x5d && top === 0x5b) return this.close(0x5b, pos);
        return this.unexpected(b, top === 0x7b ? 'where `,` or `}` was expected' : 'where `,` or `]` was expected', pos);
      }
      case S.Done:
        return this.unexpected(b, 'after the JSON value', pos);
      default:
        return this.unexpected(b, '', pos);
    }
  }

  private value(b: number, pos: number): string | undefined {
    this.keyString = false;
    if (b === 0x7b || b === 0x5b) {
      if (this.depth === MAX_JSON_DEPTH) return `nested deeper than ${MAX_JSON_DEPTH} levels at position ${pos}`;
      this.stack[this.depth++] = b;
      this.state = b === 0x7b ? S.KeyOrClose : S.ValueOrClose;
      return undefined;
    }
    if (b === 0x22) { this.state = S.Str; return undefined; }
    if (b === 0x2d) { this.state = S.Minus; return undefined; }
    if (b === 0x30) { this.state = S.Zero; return undefined; }
    if (isDigit(b)) { this.state = S.Int; return undefined; }
    const literal = b === 0x74 ? 'true' : b === 0x66 ? 'false' : b === 0x6e ? 'null' : undefined;
    if (!literal) return this.unexpected(b, 'where a value was expected', pos);
    this.literal = literal;
    this.literalAt = 1;
    this.state = S.Literal;
    return undefined;
  }

  /** Where a finished value leaves the text: inside its container, or at the end of the whole value. */
  private afterValue(): S {
    return this.depth === 0 ? S.Done : S.AfterValue;
  }

  private close(opener: number, pos: number): string | undefined {
    if (this.stack[this.depth - 1] !== opener) return this.unexpected(opener === 0x7b ? 0x7d : 0x5d, '', pos);
    this.depth--;
    this.state = this.depth === 0 ? S.Done : S.AfterValue;
    return undefined;
  }

  private unexpected(b: number, where: string, pos: number): string {
    const what = b >= 0x21 && b <= 0x7e ? `\`${String.fromCharCode(b)}\`` : `byte 0x${b.toString(16).padStart(2, '0')}`;
    return `unexpected ${what}${where ? ` ${where}` : ''} at position ${pos}`;
  }
}
