/** The offline demo world: small tables written for this project (figures are rounded illustrations, not live data). */
export const COUNTRIES: Record<string, { capital: string; population_millions: number; currency: string; languages: string[] }> = {
  japan: { capital: "Tokyo", population_millions: 124.5, currency: "JPY", languages: ["Japanese"] },
  france: { capital: "Paris", population_millions: 68.2, currency: "EUR", languages: ["French"] },
  brazil: { capital: "Brasília", population_millions: 203.1, currency: "BRL", languages: ["Portuguese"] },
  canada: { capital: "Ottawa", population_millions: 40.1, currency: "CAD", languages: ["English", "French"] },
  kenya: { capital: "Nairobi", population_millions: 55.1, currency: "KES", languages: ["Swahili", "English"] },
  india: { capital: "New Delhi", population_millions: 1428.6, currency: "INR", languages: ["Hindi", "English"] },
};

/** Units of each currency per 1 USD. */
export const USD_RATES: Record<string, number> = {
  USD: 1,
  EUR: 0.92,
  JPY: 149.5,
  BRL: 4.95,
  CAD: 1.36,
  KES: 129.0,
  INR: 83.2,
};
