// danish-ssn ships no types; only what the population test uses.
declare module 'danish-ssn' {
  interface CprInfo {
    cpr: string;
    valid: boolean;
    date: Date;
    sex: 'Male' | 'Female';
  }
  interface Cpr {
    (cpr: string): CprInfo;
    isValid(cpr: string): boolean;
  }
  const cpr: Cpr;
  export default cpr;
}
