/**
 * Pix "copia e cola": an EMV® QRCPS Merchant-Presented payload (BR Code) as the Banco
 * Central do Brasil specifies it, ending with a CRC16 of the whole string.
 */

/** CRC-16/CCITT-FALSE (polynomial 0x1021, initial 0xFFFF), as 4 upper-case hex digits. */
export function crc16ccitt(payload: string): string {
  let crc = 0xffff
  for (const byte of new TextEncoder().encode(payload)) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc.toString(16).toUpperCase().padStart(4, '0')
}

/** One ID-length-value field; lengths count characters, two digits. */
const field = (id: string, value: string) => {
  if (value.length > 99) throw new Error(`BR Code field ${id} is too long`)
  return id + String(value.length).padStart(2, '0') + value
}

/** Merchant names and cities are plain upper-case ASCII in the payload. */
const plain = (text: string, max: number) =>
  text
    .normalize('NFD')
    .replace(/[^\x20-\x7e]/g, '')
    .toUpperCase()
    .slice(0, max)

export interface PixCharge {
  /** The receiver's Pix key (e-mail, phone, CPF/CNPJ or random key). */
  key: string
  merchantName: string
  merchantCity: string
  /** Centavos. */
  amount: number
  /** Up to 25 letters and digits; identifies the charge in the receiver's statement. */
  txid: string
}

export function pixCode({ key, merchantName, merchantCity, amount, txid }: PixCharge): string {
  const reais = `${Math.floor(amount / 100)}.${String(amount % 100).padStart(2, '0')}`
  const body = [
    field('00', '01'), // payload format indicator
    field('01', '12'), // point of initiation: 12 = for one payment only
    field('26', field('00', 'br.gov.bcb.pix') + field('01', key)),
    field('52', '0000'), // merchant category code: not informed
    field('53', '986'), // BRL
    field('54', reais),
    field('58', 'BR'),
    field('59', plain(merchantName, 25)),
    field('60', plain(merchantCity, 15)),
    field('62', field('05', txid.replace(/[^A-Za-z0-9]/g, '').slice(0, 25) || '***')),
  ].join('')
  const withCrcHeader = body + '6304'
  return withCrcHeader + crc16ccitt(withCrcHeader)
}
