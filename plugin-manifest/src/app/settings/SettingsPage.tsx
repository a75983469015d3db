import { hubspot } from '@hubspot/ui-extensions';
import { Settings } from './Settings.tsx';

hubspot.extend<'settings'>(() => <Settings />);
